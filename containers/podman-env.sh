# shellcheck shell=bash
# Source this file (do not execute it): it writes podman's configuration under the cube cache and
# exports CONTAINERS_CONF / CONTAINERS_STORAGE_CONF so that every podman command, from the very first,
# sees the same store settings. A store first created with other flags makes each later run hang ~20 s,
# so this file is the ONE place those settings live (tests/support/podman.py reads them through it).
#
# Layout under "${CUBE_CACHE:-$HOME/.cache/cube}/podman":
#   containers.conf, storage.conf   configuration
#   storage/                        graphroot: images persist between runs on the same machine
#   run/, tmp/                      runroot and engine tmp_dir (podman keeps its locks there)

CUBE_CACHE="${CUBE_CACHE:-$HOME/.cache/cube}"
CUBE_PODMAN_DIR="$CUBE_CACHE/podman"
mkdir -p "$CUBE_PODMAN_DIR/storage" "$CUBE_PODMAN_DIR/run" "$CUBE_PODMAN_DIR/tmp"

# crun refuses the hybrid cgroup layout of these machines (runc works); without systemd the cgroup
# manager must be cgroupfs and events go to a file; larger rlimits fail without CAP_SYS_RESOURCE.
_cube_containers_conf="[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]
log_driver = \"k8s-file\"

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
tmp_dir = \"$CUBE_PODMAN_DIR/tmp\"
"
_cube_storage_conf="[storage]
driver = \"overlay\"
graphroot = \"$CUBE_PODMAN_DIR/storage\"
runroot = \"$CUBE_PODMAN_DIR/run\"
"
# Rewrite only when the content changes, so concurrent users of the store never see a half file.
_cube_write_if_changed() {
    if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
        printf '%s\n' "$2" > "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
    fi
}
_cube_write_if_changed "$CUBE_PODMAN_DIR/containers.conf" "$_cube_containers_conf"
_cube_write_if_changed "$CUBE_PODMAN_DIR/storage.conf" "$_cube_storage_conf"
unset -f _cube_write_if_changed
unset _cube_containers_conf _cube_storage_conf

export CONTAINERS_CONF="$CUBE_PODMAN_DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$CUBE_PODMAN_DIR/storage.conf"
