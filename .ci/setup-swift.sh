#!/usr/bin/env bash
# Installs what the Swift storage tests need: memcached (tempauth keeps its tokens there) from Debian, and
# OpenStack Swift in its own venv under the cache dir (Swift pins eventlet & co., which must not leak into the
# project's venv). Idempotent: a second run only checks versions and returns in well under a second.
set -euo pipefail

SWIFT_VERSION="2.38.3"
CACHE_DIR="${CUBE_CACHE:-$HOME/.cache/cube}"
VENV="$CACHE_DIR/swift-venv"
PYTHON="${PYTHON:-python3}"

if ! command -v memcached >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq memcached >/dev/null
fi

installed=""
if [ -x "$VENV/bin/python" ]; then
    installed=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("swift"))' 2>/dev/null || true)
fi
if [ "$installed" != "$SWIFT_VERSION" ]; then
    mkdir -p "$CACHE_DIR"
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q "swift==$SWIFT_VERSION"
fi

# The servers and the ring builder must be runnable, or the harness would fail later with a vaguer error.
for tool in swift-proxy-server swift-object-server swift-container-server swift-account-server swift-ring-builder; do
    [ -x "$VENV/bin/$tool" ] || { echo "setup-swift: $VENV/bin/$tool missing" >&2; exit 1; }
done
echo "setup-swift: swift $SWIFT_VERSION in $VENV, memcached $(command -v memcached)"
