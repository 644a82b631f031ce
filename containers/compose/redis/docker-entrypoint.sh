#!/bin/bash
# As redis:7's entrypoint: `redis-server` (or bare options) runs as the redis user, with protected mode off
# unless a config file or --protected-mode is given (else Redis refuses every client not on loopback).
set -euo pipefail
if [ "${1#-}" != "${1:-}" ]; then set -- redis-server "$@"; fi
if [ "${1:-}" = redis-server ]; then
    if [ "${2:-}" = "" ] || [ "${2#-}" != "$2" ]; then
        case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac
    fi
    if [ "$(id -u)" = 0 ]; then
        chown -R redis:redis /data 2>/dev/null || true
        exec setpriv --reuid=redis --regid=redis --init-groups "$@"
    fi
fi
exec "$@"
