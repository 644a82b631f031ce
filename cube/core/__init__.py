"""Instance-wide things: the ChrisInstance singleton and the bootstrap that creates the superuser, the
required groups, the system folders and the default compute resource."""
