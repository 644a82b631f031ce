"""The PACS services: nodes, queries (C-FIND), retrieves (C-MOVE/C-GET), the ingest sink that writes and
registers received instances, and the listener that runs it. Views and tasks call these; nothing else
changes PACS state."""
