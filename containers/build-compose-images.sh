#!/usr/bin/env bash
# Build, with podman, every image that docker-compose.yml plus containers/compose.local.yml run, for machines
# that reach no image registry (only Debian's archive and PyPI):
#
#   localhost/cube/python:3.11-bookworm   stand-in for python:3.11-slim-bookworm (the cube image's base)
#   localhost/cube/postgres:15            stand-in for postgres:15        (Debian postgresql-15)
#   localhost/cube/redis:7                stand-in for redis:7            (Debian redis-server 7.0)
#   localhost/cube/swift-saio:latest      stand-in for openstackswift/saio (Debian swift + memcached)
#   localhost/cube/orthanc:1.10           stand-in for orthancteam/orthanc (the orthanc profile; Debian orthanc)
#   localhost/cube:latest                 the root Dockerfile, built FROM the Python stand-in
#   localhost/cube/plugins + per-plugin tags (build-plugin-image.sh)
#
# All on the Debian base localhost/debian-py:bookworm that build-plugin-image.sh makes. The stand-ins
# change only with containers/compose/: they carry a label with the hash of that directory (and of the base
# image and the machine's CA bundle), and are also saved as one archive under
# "${CUBE_CACHE:-$HOME/.cache/cube}/images/", so a store that lost them loads them back instead of
# rebuilding. The cube image is rebuilt every time from podman's layer cache (seconds when only the source
# changed; the pip layer is reused while requirements.txt is unchanged).
#
# Usage: build-compose-images.sh [--no-cube]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${CUBE_CACHE:-$HOME/.cache/cube}"
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"
export CUBE_CONTAINER_ENGINE=podman

base_image="localhost/debian-py:bookworm"
python_image="localhost/cube/python:3.11-bookworm"
services=(postgres:localhost/cube/postgres:15 redis:localhost/cube/redis:7 swift:localhost/cube/swift-saio:latest
          orthanc:localhost/cube/orthanc:1.10)
cube_image="${CUBE_IMAGE:-localhost/cube:latest}"
host_ca="${CUBE_HOST_CA:-/etc/ssl/certs/ca-certificates.crt}"
label="org.chrisproject.cube.compose-hash"

log() { printf '%s\n' "build-compose-images: $*" >&2; }

# The Debian base and the plugin image (quick when both exist: only the plugin layer is checked).
bash "$here/build-plugin-image.sh"

base_id="$(podman image inspect --format '{{.Id}}' "$base_image")"
hash="$( { echo "$base_id"; cat "$host_ca" 2>/dev/null || true
           cd "$here/compose" && find . -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)"
archive="$cache/images/cube-compose-services-$hash.tar"
all_images=("$python_image")
for entry in "${services[@]}"; do all_images+=("${entry#*:}"); done

current() {  # every stand-in exists and was built from this very hash
    local image
    for image in "${all_images[@]}"; do
        [ "$(podman image inspect --format "{{index .Labels \"$label\"}}" "$image" 2>/dev/null)" = "$hash" ] || return 1
    done
}

previous() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# A rebuild leaves the image it replaced untagged: remove it (ours only: it carries our label) unless a
# container still uses it, so that the shared store does not grow with every source change.
drop_if_replaced() {  # old-id image
    [ -n "$1" ] && [ "$1" != "$(previous "$2")" ] || return 0
    [ -n "$(podman image inspect --format "{{index .Labels \"$label\"}}" "$1" 2>/dev/null)" ] || return 0
    [ -z "$(podman image inspect --format '{{.RepoTags}}' "$1" | tr -d '[]')" ] || return 0
    podman rmi "$1" >/dev/null 2>&1 || true
}

if ! current && [ -s "$archive" ]; then
    log "loading the service images from $archive"
    podman load -q -i "$archive" >/dev/null || true
fi
if ! current; then
    ctx="$(mktemp -d)"
    trap 'rm -rf "$ctx"' EXIT
    cp -r "$here/compose/." "$ctx/"
    if [ -s "$host_ca" ]; then cp "$host_ca" "$ctx/python/host-ca.crt"; else : > "$ctx/python/host-ca.crt"; fi
    build() {  # dir image
        log "building $2"
        local old
        old="$(previous "$2")"
        # --network=host: apt needs the network, and a network namespace per RUN step would only cost time.
        podman build --quiet --network=host --build-arg "BASE_IMAGE=$base_image" --label "$label=$hash" \
            -t "$2" "$ctx/$1" >/dev/null
        drop_if_replaced "$old" "$2"
    }
    build python "$python_image"
    for entry in "${services[@]}"; do build "${entry%%:*}" "${entry#*:}"; done
    mkdir -p "$cache/images"
    rm -f "$cache"/images/cube-compose-services-*.tar
    podman save -q --multi-image-archive -o "$archive.tmp$$" "${all_images[@]}" && mv -f "$archive.tmp$$" "$archive"
    log "saved ${all_images[*]} to $archive"
fi

if [ "${1:-}" != "--no-cube" ]; then
    log "building $cube_image"
    old="$(previous "$cube_image")"
    podman build --quiet --network=host --build-arg "BASE_IMAGE=$python_image" -t "$cube_image" "$repo" >/dev/null
    drop_if_replaced "$old" "$cube_image"
fi
log "ready: ${all_images[*]}$( [ "${1:-}" = --no-cube ] || echo " $cube_image")"
