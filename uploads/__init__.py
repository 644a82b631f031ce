"""The file registry: folders, files and link files with owners, public flags and user/group grants, the
services that register stored objects into it, and the access selectors every file read and write goes
through. User uploads, the file browser and download tokens build on it."""
