#!/usr/bin/env bash
# Installs what the container runner tests need: podman + runc (Docker-compatible API service) and
# mmdebstrap from Debian, podman's configuration (containers/podman-env.sh), then builds the Debian base
# image and the builtin-plugins image localhost/cube/plugins:latest (+ per-plugin tags) into podman's
# persistent store under "${CUBE_CACHE:-$HOME/.cache/cube}". The base rootfs tarball (about a minute to
# make) is cached there too; a second run only rebuilds the plugin layer from cache (about a second).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's podman recommends conmon, catatonit, slirp4netns, ...; name them so a --no-install-recommends
# policy cannot drop what rootful podman needs here.
packages=(podman runc conmon catatonit uidmap mmdebstrap)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${packages[@]}" >/dev/null
fi

# Written before any podman command runs: a store first created with other settings hangs every run.
# shellcheck source=../containers/podman-env.sh
. containers/podman-env.sh

CUBE_CONTAINER_ENGINE=podman bash containers/build-plugin-image.sh
podman image exists localhost/cube/plugins:latest
