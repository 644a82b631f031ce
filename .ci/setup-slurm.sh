#!/usr/bin/env bash
# Installs what the SLURM runner tests need: SLURM 22.05 from Debian (controller, node daemon, client
# commands). The tests start their own single-node cluster (tests/support/slurm.py) with auth/none on
# free ports, so nothing is configured or started here. Idempotent: a second run only checks packages.
set -euo pipefail

packages=(slurmctld slurmd slurm-client)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # No init system here starts the daemons, and the tests never read the system-wide slurm.conf.
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${packages[@]}" >/dev/null
fi
for tool in slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
    command -v "$tool" >/dev/null || { echo "setup-slurm: $tool missing after install" >&2; exit 1; }
done
