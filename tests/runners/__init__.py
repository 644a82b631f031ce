"""Tests of cube.runners: one contract suite over every runner, plus runner-specific checks."""
