#!/usr/bin/env bash
# Build the builtin-plugins image localhost/cube/plugins:latest (and its per-plugin tags) with podman
# or docker, building the Debian base image first when it is missing.
#
# No image registry is reachable from these machines, so the base is a bookworm rootfs made by
# mmdebstrap and imported; its tarball is cached under "${CUBE_CACHE:-$HOME/.cache/cube}/images" so a
# machine makes it once (about 50 s).
#
# Engine: CUBE_CONTAINER_ENGINE=podman|docker; by default docker when DOCKER_HOST names a daemon, else
# podman when installed, else docker. podman is configured by podman-env.sh beside this script.
#
# Usage: build-plugin-image.sh [--base-only]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${CUBE_CACHE:-$HOME/.cache/cube}"
base_image="localhost/debian-py:bookworm"
plugin_image="localhost/cube/plugins:latest"
# The image tag (the plugin's dock_image, which the job engine asks for) of every builtin plugin, the versions
# registered only with --compat-versions included, and "selfexec:module file" of each: read from
# plugins/builtin itself (standard library only) so that a new builtin cannot be left out of the image. The
# executables are those `manage.py install_builtin_plugins` puts on SLURM nodes (plugins/builtin/install.py).
builtin_list() {
    (cd "$repo" && "${PYTHON:-python3}" -c '
import sys
from plugins.builtin import descriptors
from plugins.builtin.install import executables
if sys.argv[1] == "tags":
    print("\n".join(d["dock_image"] for d in descriptors(compat=True)))
else:
    print(" ".join(exe + ":" + stem for exe, stem in executables()))
' "$1")
}
mapfile -t plugin_tags < <(builtin_list tags)
plugin_scripts="$(builtin_list scripts)"
[ "${#plugin_tags[@]}" -gt 0 ] && [ -n "$plugin_scripts" ] || { echo "no builtin plugins found" >&2; exit 1; }

engine="${CUBE_CONTAINER_ENGINE:-}"
if [ -z "$engine" ]; then
    if [ -z "${DOCKER_HOST:-}" ] && command -v podman >/dev/null 2>&1; then engine=podman; else engine=docker; fi
fi
case "$engine" in
    podman) # shellcheck source=podman-env.sh
            . "$here/podman-env.sh" ;;
    docker) ;;
    *) echo "CUBE_CONTAINER_ENGINE must be podman or docker, not '$engine'" >&2; exit 2 ;;
esac
command -v "$engine" >/dev/null 2>&1 || { echo "$engine is not installed" >&2; exit 1; }

build_base_tarball() {
    local tarball="$1" sources mirror_args=()
    # Use the host's own Debian sources (the only archive reachable), unless told otherwise.
    if [ -n "${CUBE_DEBIAN_MIRROR:-}" ]; then
        mirror_args=("$CUBE_DEBIAN_MIRROR")
    else
        for sources in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
            if [ -s "$sources" ]; then mirror_args=("$sources"); break; fi
        done
    fi
    mkdir -p "$(dirname "$tarball")"
    echo "building the base rootfs with mmdebstrap (about a minute)" >&2
    local tmp="${tarball%.tar}.tmp$$.tar"
    mmdebstrap --quiet --format=tar --variant=apt --include=python3 bookworm "$tmp" "${mirror_args[@]}" \
        </dev/null
    mv -f "$tmp" "$tarball"
}

if ! "$engine" image inspect "$base_image" >/dev/null 2>&1; then
    tarball="$cache/images/debian-py-bookworm.tar"
    [ -s "$tarball" ] || build_base_tarball "$tarball"
    "$engine" import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' "$tarball" "$base_image" >/dev/null
    echo "imported $base_image" >&2
fi
[ "${1:-}" = "--base-only" ] && exit 0

# A small build context (not the repo: docker would upload .venv and everything else).
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
[ -d "$repo/plugins/builtin" ] || { echo "$repo/plugins/builtin is missing" >&2; exit 1; }
mkdir "$ctx/builtin"
(cd "$repo/plugins/builtin" && find . -name '__pycache__' -prune -o -type f -name '*.py' -print0 \
    | xargs -0 -I{} cp --parents {} "$ctx/builtin/")
cp "$here/Containerfile" "$ctx/Containerfile"

build_args=(--build-arg "BASE_IMAGE=$base_image" --build-arg "PLUGIN_SCRIPTS=$plugin_scripts"
            -f "$ctx/Containerfile" -t "$plugin_image")
if [ "$engine" = podman ]; then
    # The build needs no network; host networking avoids creating a network namespace for RUN steps.
    "$engine" build --quiet --network=host "${build_args[@]}" "$ctx" >/dev/null
else
    "$engine" build --quiet "${build_args[@]}" "$ctx" >/dev/null
fi
for tag in "${plugin_tags[@]}"; do
    "$engine" tag "$plugin_image" "$tag"
done
echo "built $plugin_image and ${plugin_tags[*]} with $engine" >&2
