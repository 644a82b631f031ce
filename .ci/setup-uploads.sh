#!/usr/bin/env bash
# Installs what the file API tests (tests/uploads) and bench_files.py need beyond the project's venv:
# the Swift all-in-one (via setup-swift.sh, which caches it under the cache dir) for test_swift.py, and
# checks that the shared SAG-anon data set is reachable (test_sag_anon.py fails under CI=true without it).
# PostgreSQL, which the parallel-upload and gunicorn tests need, is already running on these machines.
# Idempotent: a second run only checks.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
CACHE_DIR="${CUBE_CACHE:-$HOME/.cache/cube}"
mkdir -p "$CACHE_DIR"

# Swift and memcached (skipped quickly when already installed).
bash "$HERE/setup-swift.sh"

# The tests stream files through gunicorn and requests: both are pinned in requirements.txt, which
# `make venv` installs; here we only make sure the venv, if it exists already, is not missing them.
if [ -x "$REPO/.venv/bin/python" ]; then
    if ! "$REPO/.venv/bin/python" -c 'import gunicorn, requests, jwt' >/dev/null 2>&1; then
        "$REPO/.venv/bin/pip" install -q -r "$REPO/requirements.txt"
    fi
fi

SHARED="${CUBE_SHARED_DIR:-$(dirname "$REPO")/shared}"
count=$(find "$SHARED/data/SAG-anon" -maxdepth 1 -name '*.dcm' 2>/dev/null | wc -l)
if [ "$count" -lt 192 ]; then
    echo "setup-uploads: SAG-anon not found under $SHARED/data (found $count .dcm files); set CUBE_SHARED_DIR" >&2
    exit 1
fi
echo "setup-uploads: swift ready, SAG-anon ($count files) at $SHARED/data/SAG-anon"
