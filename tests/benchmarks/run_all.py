"""`make bench`: run every benchmark script in this folder and let each print its figures."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    status = 0
    for script in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        print(f"\n== {os.path.basename(script)}", flush=True)
        result = subprocess.run([sys.executable, script], cwd=os.path.dirname(os.path.dirname(HERE)))
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
