"""Tests of the plugins app: catalogue, registration, and the built-in plugins."""
