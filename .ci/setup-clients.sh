#!/usr/bin/env bash
# The real command-line clients the ChRIS wiki workflows use (pfurl, httpie), in their own venv under the
# cache: tests run the wiki's commands verbatim with them.
set -euo pipefail
venv="${CUBE_CACHE:-$HOME/.cache/cube}/clients-venv"
if [ ! -x "$venv/bin/pfurl" ] || [ ! -x "$venv/bin/http" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pfurl==2.3.0.1 httpie==3.2.4 2>&1 | { grep -v "^WARNING: Location" || true; }
fi
"$venv/bin/http" --version >/dev/null
