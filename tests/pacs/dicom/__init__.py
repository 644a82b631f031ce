"""Tests of pacs.dicom against a real Orthanc and our own storage SCP."""
