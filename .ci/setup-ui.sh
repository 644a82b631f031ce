#!/usr/bin/env bash
# The UI tests' toolchain: Node.js and npm (Debian's), Debian's headless Chromium for the browser test,
# and tests/ui's npm packages (@fnndsc/chrisapi at two versions, playwright-core) from its lock file.
# Idempotent; npm's download cache lives under $CUBE_CACHE, never in the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CUBE_CACHE:-$HOME/.cache/cube}"
mkdir -p "$CACHE/npm"

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ ! -f "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +720 2>/dev/null)" ]; then
    apt-get update -qq && touch "$CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "setup-ui: node $(node --version) is too old: the suites need node 18+ (fetch, Blob, node --test)" >&2
  exit 1
fi

# npm ci only when the lock changed since the last install: it deletes node_modules first.
stamp="tests/ui/node_modules/.lock-sha256"
want="$(sha256sum tests/ui/package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # --ignore-scripts: none of these packages needs an install script, and playwright-core must not try
  # to download a browser of its own (Debian's chromium is used).
  (cd tests/ui && npm ci --ignore-scripts --no-audit --no-fund --cache "$CACHE/npm" --prefer-offline)
  echo "$want" > "$stamp"
fi
echo "setup-ui: node $(node --version), npm $(npm --version), $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
