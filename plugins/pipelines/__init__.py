"""Pipelines: named trees of plugins with default parameter values and resources (CUBE's ``pipelines``
app), created from a ``plugin_tree``, from an existing run's subtree, or from an uploaded YAML/JSON file.

tree.py validates a tree into node specs; services.py writes them; selectors.py decides who sees what;
sourcefiles.py reads uploaded pipeline files. Workflows (feeds/) instantiate pipelines; nothing here
imports feeds at import time.
"""
