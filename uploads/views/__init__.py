"""The file API's views, thin over the selectors (who may see what) and the services (what changes):
user files (current and classic), the file browser, grants, and download tokens."""
