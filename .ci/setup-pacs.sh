#!/usr/bin/env bash
# Installs what the PACS/DICOM tests and benchmark need: Orthanc (a real PACS to test against) and
# DCMTK (storescp, the reference receiver in the benchmark). Idempotent; runs as root.
# The Debian orthanc package ships a system service; our tests run their own Orthanc on free ports, so the
# packaged service must never be left running (it would hold 4242/8042 and serve /var/lib/orthanc).
set -euo pipefail

need_install=()
command -v Orthanc >/dev/null 2>&1 || need_install+=(orthanc)
command -v storescp >/dev/null 2>&1 || [ -x /usr/bin/storescp ] || need_install+=(dcmtk)

if [ "${#need_install[@]}" -gt 0 ]; then
    # Keep apt's maintainer scripts from starting the packaged service during install.
    added_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    cleanup() { if [ "$added_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
    trap cleanup EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_install[@]}"
fi

# Disable the packaged service's boot links where the tooling exists (harmless without an init system).
if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/orthanc ]; then
    update-rc.d orthanc disable >/dev/null 2>&1 || true
fi

# If the packaged service is running anyway (started before this script), stop it by its own PID: only a
# process whose command line names the packaged config directory /etc/orthanc is ours to stop.
for pid in $(pgrep -x Orthanc || true); do
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q '/etc/orthanc'; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            [ -d "/proc/$pid" ] || break
            sleep 0.1
        done
        [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null || true
    fi
done

Orthanc --version 2>&1 | head -n 1 || true
storescp --version 2>&1 | head -n 1 || true
