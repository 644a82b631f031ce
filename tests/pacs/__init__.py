"""Tests of the pacs app: the DICOM layer (dicom/) and the Django side."""
