"""manage.py commands of the pacs app: PACS nodes (pacs_node), the DICOM listener (dicom_listener) and
reconciling storage with the registry (pacs_reconcile)."""
