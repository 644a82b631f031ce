#!/usr/bin/env bash
# Production smoke test: docker-compose.yml for real, with podman (+ containers/compose.local.yml, the local
# images of postgres/redis/swift for machines without a registry). Builds what is missing, brings the stack up
# under its own project name (own network and volumes), waits for health, then through the published ports:
# chris logs in, a user signs up, uploads a file, downloads it byte-identical and it is found in Swift;
# pl-dircopy runs on it in a plugin container; one DICOM instance sent to the listener is listed under
# /api/v1/pacs/files/. Then everything it made is removed (containers, network, volumes, the podman API
# service it started), also on failure, whose service logs it prints first.
#
# podman-compose (PyPI, pinned, in its own venv under the cube cache) and not `podman compose`: podman 4.3
# has no compose of its own. The stack is started in three waves with --no-deps, because podman-compose on
# podman < 4.6 ignores `condition: service_healthy` and turns depends_on into `podman --requires`, which
# restarts the finished migrate with every dependant (and fails to resolve the chain); the waves do what
# docker compose does with the same file: healthy db/redis/swift, then migrate to exit 0, then the rest.
# Health is checked with `podman healthcheck run` (without systemd, podman schedules no health checks).
#
# Usage: .ci/compose-smoke.sh      (root, podman; CUBE_CACHE as for the other .ci scripts)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
export CUBE_CACHE="${CUBE_CACHE:-$HOME/.cache/cube}"
PODMAN_COMPOSE_VERSION="1.6.0"
started=$SECONDS
say() { printf 'compose-smoke: %s (%ss)\n' "$*" "$((SECONDS - started))"; }

# shellcheck source=../containers/podman-env.sh
. containers/podman-env.sh

pc_venv="$CUBE_CACHE/podman-compose-venv"
if [ "$("$pc_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("podman-compose"))' 2>/dev/null)" \
        != "$PODMAN_COMPOSE_VERSION" ]; then
    rm -rf "$pc_venv"
    python3 -m venv "$pc_venv"
    "$pc_venv/bin/pip" install -q "podman-compose==$PODMAN_COMPOSE_VERSION"
fi
py="$repo/.venv/bin/python"
[ -x "$py" ] || { make venv >/dev/null; }

bash containers/build-compose-images.sh
say "images ready"

project="cubesmoke$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/cube-compose-smoke.XXXXXX")"
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export COMPOSE_PROJECT_NAME="$project"
export DJANGO_SECRET_KEY="$("$py" -c 'import secrets; print(secrets.token_urlsafe(40))')"
export POSTGRES_PASSWORD="$("$py" -c 'import secrets; print(secrets.token_hex(16))')"
export CUBE_ADMIN_PASSWORD="$("$py" -c 'import secrets; print(secrets.token_urlsafe(16))')"
export CUBE_JOBS_DIR="$work/jobs" DOCKER_SOCKET="$work/podman.sock"
export CUBE_WEB_PORT="$(free_port)" CUBE_DICOM_PUBLISHED_PORT="$(free_port)"
mkdir -p "$CUBE_JOBS_DIR"
compose() { "$pc_venv/bin/podman-compose" -p "$project" -f docker-compose.yml -f containers/compose.local.yml "$@"; }
ctr() { echo "${project}_$1_1"; }

service_pid=""
cleanup() {
    local rc=${1:-$?}
    trap - EXIT INT TERM
    set +e
    if [ "$rc" != 0 ]; then
        for svc in db redis swift migrate web worker beat dicom; do
            echo "---- logs of $svc (last 40 lines)"; podman logs --tail 40 "$(ctr "$svc")" 2>&1
        done
    fi
    compose down -v -t 5 >"$work/down.log" 2>&1
    # Whatever down left, and plugin containers of this stack's jobs (the runner's, labelled with the job).
    podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f -v >/dev/null 2>&1
    podman volume ls -q --filter "label=io.podman.compose.project=$project" | xargs -r podman volume rm -f >/dev/null
    podman network rm -f "${project}_default" >/dev/null 2>&1
    podman ps -a --filter "label=org.chrisproject.job" --format '{{.ID}} {{.Mounts}}' \
        | awk -v dir="$CUBE_JOBS_DIR/" 'index($0, dir) {print $1}' | xargs -r podman rm -f -v >/dev/null 2>&1
    if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null; wait "$service_pid" 2>/dev/null; fi
    rm -rf "$work"
    say "torn down (exit $rc)"
    exit "$rc"
}
# Once, on any exit; a signal makes it a failure.
trap cleanup EXIT
trap 'cleanup 130' INT
trap 'cleanup 143' TERM

# podman's Docker-compatible API for the worker: it starts plugin containers beside the stack.
podman system service --time=0 "unix://$DOCKER_SOCKET" >"$work/podman-service.log" 2>&1 &
service_pid=$!
for _ in $(seq 100); do [ -S "$DOCKER_SOCKET" ] && break; sleep 0.1; done
[ -S "$DOCKER_SOCKET" ] || { echo "podman system service did not start" >&2; exit 1; }

wait_healthy() {  # service... : run each health check until it passes (3 minutes at most)
    local svc deadline=$((SECONDS + 180))
    for svc in "$@"; do
        until podman healthcheck run "$(ctr "$svc")" >/dev/null 2>&1; do
            [ "$(podman inspect -f '{{.State.Running}}' "$(ctr "$svc")")" = true ] \
                || { echo "$svc is not running" >&2; return 1; }
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "$svc is not healthy after 3 minutes:" >&2
                podman inspect -f '{{json .State.Healthcheck.Log}}' "$(ctr "$svc")" | tail -c 2000 >&2
                return 1
            fi
            sleep 1
        done
    done
}
compose up -d --no-build --no-deps db redis swift >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
wait_healthy db redis swift
say "db, redis, swift healthy"
compose up -d --no-build --no-deps migrate >>"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
code="$(podman wait "$(ctr migrate)")"
[ "$code" = 0 ] || { echo "migrate exited with $code" >&2; exit 1; }
say "migrate done"
compose up -d --no-build --no-deps web worker beat dicom >>"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
wait_healthy web
say "web healthy on port $CUBE_WEB_PORT"

pacs_aet="SMOKESCU"
podman exec "$(ctr web)" python manage.py pacs_node add SMOKE --aet "$pacs_aet" --host 127.0.0.1 --port 104 >/dev/null
# Reads an object straight from Swift with the stack's own account: proof that uploads went there.
read -r -d '' swift_cmd <<'PY' || true
import hashlib, os, sys, urllib.request, urllib.parse
auth = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:8080/auth/v1.0", headers={
    "X-Auth-User": os.environ["U"], "X-Auth-Key": os.environ["K"]}))
url = auth.headers["X-Storage-Url"] + "/users/" + urllib.parse.quote(sys.argv[1])
body = urllib.request.urlopen(urllib.request.Request(url, headers={"X-Auth-Token": auth.headers["X-Auth-Token"]})).read()
print(hashlib.sha256(body).hexdigest(), len(body))
PY
swift_user="$(podman exec "$(ctr web)" printenv SWIFT_USERNAME)" swift_key="$(podman exec "$(ctr web)" printenv SWIFT_KEY)"
export SMOKE_SWIFT_CMD="podman exec -e U=$swift_user -e K=$swift_key $(ctr swift) python3 -c '$swift_cmd'"
export SMOKE_PACS_AET="$pacs_aet"
"$py" .ci/compose_smoke.py "http://127.0.0.1:$CUBE_WEB_PORT" "$CUBE_DICOM_PUBLISHED_PORT"
# Every long-running role is still up and was never restarted (a crash loop of beat would not show above).
for svc in db redis swift web worker beat dicom; do
    state="$(podman inspect -f '{{.State.Status}} {{.RestartCount}}' "$(ctr "$svc")")"
    [ "$state" = "running 0" ] || { echo "$svc: $state (expected running, never restarted)" >&2; exit 1; }
done
# ... and beat really schedules (its thread can die while the worker process around it lives on).
# (grep without -q: with pipefail, -q's early exit would fail the pipeline through podman's SIGPIPE.)
podman logs "$(ctr beat)" 2>&1 | grep "Sending due task reconcile-jobs" >/dev/null \
    || { echo "beat never sent its periodic task" >&2; exit 1; }
say "passed: every service running, none restarted, beat scheduling"
