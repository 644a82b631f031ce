#!/bin/bash
# Runs memcached (tempauth keeps its tokens there) and the four Swift servers in one container; exits, so that
# the engine's restart policy applies, as soon as any of them exits, and stops them all on SIGTERM.
set -uo pipefail
mkdir -p /srv/node/d1 /var/cache/swift /var/run/swift
chown swift:swift /srv /srv/node /srv/node/d1 /var/cache/swift /var/run/swift
pids=()
stop() { kill -TERM "${pids[@]}" 2>/dev/null; wait; exit "${1:-0}"; }
trap 'stop 0' TERM INT
memcached -u memcache -l 127.0.0.1 -p 11211 -m 64 & pids+=($!)
for kind in account container object proxy; do
    "swift-$kind-server" "/etc/swift/$kind-server.conf" -v & pids+=($!)
done
echo "swift all-in-one: proxy on :8080 (tempauth, SAIO accounts)"
wait -n
echo "a swift process exited; stopping the others" >&2
stop 1
