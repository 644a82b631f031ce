"""Benchmark: pl-dircopy on many small files and one large file, hard-linked and copied.

Run: ``python tests/plugins/builtin/bench_dircopy.py [n_files]``. Prints figures; asserts nothing.
The copy case needs a second filesystem (/dev/shm) and is skipped without one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def build_input(root: Path, n_files: int) -> int:
    per_dir = 100
    for i in range(n_files):
        d = root / f"series{i // per_dir:04}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"{i:06}.dcm").write_bytes(os.urandom(4096))
    (root / "big.bin").write_bytes(os.urandom(200 * 1024 * 1024))
    return n_files * 4096 + 200 * 1024 * 1024


def run(inp: Path, out: Path) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "plugins.builtin.dircopy", "--dir", "x", str(inp),
                    str(out)], cwd=REPO_ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    n_files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "in"
        size = build_input(inp, n_files)
        mb = size / 1e6
        linked = run(inp, Path(tmp) / "out")
        print(f"hard links: {n_files} x 4 KB + 200 MB ({mb:.0f} MB) in {linked:.2f} s "
              f"({n_files / linked:.0f} files/s)")
        shm = Path("/dev/shm")
        if shm.is_dir() and shm.stat().st_dev != inp.stat().st_dev:
            other = Path(tempfile.mkdtemp(dir=shm))
            try:
                copied = run(inp, other / "out")
                print(f"copies:     {n_files} x 4 KB + 200 MB ({mb:.0f} MB) in {copied:.2f} s "
                      f"({mb / copied:.0f} MB/s)")
            finally:
                shutil.rmtree(other)
        else:
            print("copies: skipped, no second filesystem at /dev/shm")


if __name__ == "__main__":
    main()
