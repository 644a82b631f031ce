"""Tests of cube.storage: one contract suite run against every backend, plus backend-specific tests."""
