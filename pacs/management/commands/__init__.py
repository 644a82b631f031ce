"""pacs_node (add, change, remove, list and C-ECHO PACS nodes) and dicom_listener (the storage SCP)."""
