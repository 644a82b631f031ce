"""`make run`: the whole system on one machine, no external service.

Starts the web server (gunicorn), a Celery worker with an embedded beat, and (when installed) the DICOM
listener, as child processes in their own process groups; Ctrl-C or SIGTERM stops all of them, and if
any one dies the others are stopped too, so a half-running system never lingers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from importlib.util import find_spec

OPTIONAL = {"dicom"}


def commands(port: int, host: str) -> list[tuple[str, list[str]]]:
    py = sys.executable
    workers = str(max(2, min(4, (os.cpu_count() or 2))))
    cmds = [
        ("web", [py, "-m", "gunicorn", "cube.wsgi:application", "--bind", f"{host}:{port}",
                 "--workers", workers, "--threads", "4", "--worker-class", "gthread", "--timeout", "0",
                 "--access-logfile", "-"]),
        ("worker", [py, "-m", "celery", "-A", "cube", "worker", "-B", "--loglevel", "INFO",
                    "--concurrency", "4", "-Q", "main,jobs,periodic",
                    "--schedule", os.path.join(os.environ.get("CUBE_VAR_DIR", "var"), "celerybeat-schedule")]),
    ]
    if find_spec("pacs.management") is not None:
        cmds.append(("dicom", [py, "manage.py", "dicom_listener"]))
    return cmds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))  # noqa: S104 - a server
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cube.settings")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], check=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, argv in commands(args.port, args.host):
        procs[name] = subprocess.Popen(argv, start_new_session=True)
    print(f"cube: serving http://{args.host}:{args.port}/api/v1/ (admin chris); Ctrl-C stops everything",
          flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        for name, proc in list(procs.items()):
            if proc.poll() is None:
                continue
            if name in OPTIONAL:
                # The API is still useful without the DICOM listener (e.g. port 11111 already taken).
                print(f"cube: {name} exited with {proc.returncode}; serving without it "
                      f"(set CUBE_DICOM_PORT to use another port)", flush=True)
                del procs[name]
                continue
            print(f"cube: {name} exited with {proc.returncode}; stopping the rest", flush=True)
            status = proc.returncode or 1
            stopping = True
        time.sleep(0.2)
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return status


if __name__ == "__main__":
    sys.exit(main())
