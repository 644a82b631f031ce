"""manage.py commands of the pacs app: PACS nodes (pacs_node) and the DICOM listener (dicom_listener)."""
