#!/usr/bin/env bash
# The real clients, each generation's, in venvs of their own under the cache:
#  * clients-venv: pfurl and httpie, with which tests run the ChRIS wiki's commands verbatim;
#  * apiclients-venv: python-chrisclient (Collection+JSON, CUBE 6), aiochris and chrs (plain JSON), which
#    tests drive through login, uploads, plugin runs and pipelines. Apart, so that neither set's pins
#    constrain the other's.
set -euo pipefail
cache="${CUBE_CACHE:-$HOME/.cache/cube}"
venv="$cache/clients-venv"
if [ ! -x "$venv/bin/pfurl" ] || [ ! -x "$venv/bin/http" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pfurl==2.3.0.1 httpie==3.2.4 2>&1 | { grep -v "^WARNING: Location" || true; }
fi
"$venv/bin/http" --version >/dev/null

api="$cache/apiclients-venv"
pins="python-chrisclient==2.15.0 aiochris==0.10.0 typing-inspect==0.9.0 chrs==0.3.1"
if [ "$(cat "$api/.pins" 2>/dev/null)" != "$pins" ]; then
  rm -rf "$api"
  python3 -m venv "$api"
  # shellcheck disable=SC2086 # the pins are separate arguments
  "$api/bin/pip" install -q $pins 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$pins" > "$api/.pins"
fi
"$api/bin/chrs" --version >/dev/null
"$api/bin/python" -c "import aiochris, chrisclient"
