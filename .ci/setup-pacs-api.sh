#!/usr/bin/env bash
# What the PACS API tests (tests/pacs/test_pacs_*.py) and bench_pacs_api.py need on a fresh machine:
# Orthanc (the PACS they query and retrieve from) and DCMTK's storescp (the benchmark's reference). Both
# come from setup-pacs.sh, which is idempotent; this script runs it if either is missing and checks the
# result, so the API tests' needs are stated here even if the DICOM layer's script changes. The rest
# (Celery on an in-memory broker, the local runner for pl-dircopy, SQLite/PostgreSQL) needs nothing more.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

have_orthanc() { command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ]; }
have_storescp() { command -v storescp >/dev/null 2>&1 || [ -x /usr/bin/storescp ]; }

if ! have_orthanc || ! have_storescp; then
    bash "$here/setup-pacs.sh"
fi
have_orthanc || { echo "setup-pacs-api: Orthanc is still missing" >&2; exit 1; }
have_storescp || { echo "setup-pacs-api: storescp is still missing" >&2; exit 1; }

# The benchmark reads SAG-anon from the shared data folder; it is data, never installed into the repo.
shared="${CUBE_SHARED_DIR:-$here/../../shared}"
if ! ls "$shared/data/SAG-anon/"*.dcm >/dev/null 2>&1; then
    echo "setup-pacs-api: note: no SAG-anon at $shared/data/SAG-anon (only bench_pacs_api.py needs it)" >&2
fi
echo "setup-pacs-api: Orthanc and storescp present"
