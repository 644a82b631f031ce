"""PACS in the API: nodes (remote PACS), queries (C-FIND), retrieves (C-MOVE to our listener or C-GET),
the storage SCP service that files what arrives into the file registry, and the searchable DICOM index.

pacs/dicom/ is the DICOM layer (the only code that imports pynetdicom); everything else here is the Django
side that drives it.
"""
