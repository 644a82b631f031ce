"""Test harnesses shared by the test packages: real services (Swift, ...) started on free ports under a
temporary directory and stopped by PID."""
