"""Tests of the built-in ChRIS plugins, run as real subprocesses."""
