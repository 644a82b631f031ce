"""The test suite; mirrors the source tree. Packages here so `plugins` always means the Django app."""
