"""pacs_node (add, change, remove, list and C-ECHO PACS nodes), dicom_listener (the storage SCP) and
pacs_reconcile (register stored PACS objects the registry lacks)."""
