"""`make bench`: run every benchmark script in this folder and let each print its figures."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Scripts run again with these arguments after their default run: the figures an issue asks for on a second
# storage backend.
EXTRA_RUNS = {"bench_pacs_api.py": [["--storage", "swift"]]}


def main() -> int:
    status = 0
    for script in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        name = os.path.basename(script)
        for args in [[], *EXTRA_RUNS.get(name, [])]:
            print(f"\n== {' '.join([name, *args])}", flush=True)
            result = subprocess.run([sys.executable, script, *args], cwd=os.path.dirname(os.path.dirname(HERE)))
            status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
