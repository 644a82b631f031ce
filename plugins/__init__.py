"""The plugin catalogue: plugin metas, versioned plugins, their parameters and compute resources, and
registration from the JSON descriptor a ChRIS plugin prints with --json. plugins/builtin/ holds our own
plugins (stdlib-only scripts, no Django)."""
