"""The client half of .ci/compose-smoke.sh: drives a running production stack through its published ports.

    compose_smoke.py WEB_URL DICOM_PORT

Environment: CUBE_ADMIN_PASSWORD (chris's password), SMOKE_SWIFT_CMD (a command that prints the sha256 and
size of one object of the Swift container, given its name: it runs inside the swift service),
SMOKE_PACS_AET (the AE title registered as a PACS node before this runs).
Each step prints one line; any failure raises and exits non-zero.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import subprocess
import sys
import time
from typing import Any

import requests

TIMEOUT = 30


def step(message: str, started: float) -> None:
    print(f"compose-smoke: {message} ({time.monotonic() - started:.1f} s)", flush=True)


def wait_for(what: str, probe: Any, done: Any, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"compose-smoke: timed out waiting for {what}: last {value!r}")
        time.sleep(1)


def main(web: str, dicom_port: int) -> None:
    started = time.monotonic()
    admin = requests.Session()
    admin.auth = ("chris", os.environ["CUBE_ADMIN_PASSWORD"])
    admin.headers["Accept"] = "application/json"

    r = admin.get(f"{web}/api/v1/", timeout=TIMEOUT)
    r.raise_for_status()
    step("chris logs in (GET /api/v1/ with Basic auth)", started)
    r = requests.get(f"{web}/static/admin/css/base.css", timeout=TIMEOUT)
    assert r.status_code == 200 and "text/css" in r.headers.get("Content-Type", ""), r.status_code
    step("static files served (collected into the image, served by whitenoise)", started)

    username, password = f"smoke{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    r = requests.post(f"{web}/api/v1/users/", json={"username": username, "password": password,
                                                     "email": f"{username}@example.org"},
                      headers={"Accept": "application/json"}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    user = requests.Session()
    user.auth = (username, password)
    user.headers["Accept"] = "application/json"
    assert user.get(f"{web}/api/v1/", timeout=TIMEOUT).status_code == 200
    step(f"created user {username}", started)

    blob = secrets.token_bytes(300_000) + b"compose smoke\n"
    path = f"home/{username}/uploads/smoke/data.bin"
    r = user.post(f"{web}/api/v1/userfiles/", data={"upload_path": path},
                  files={"fname": ("data.bin", blob, "application/octet-stream")}, timeout=120)
    assert r.status_code == 201, r.text
    uploaded = r.json()
    r = user.get(uploaded["file_resource"], timeout=120)
    r.raise_for_status()
    assert r.content == blob, "downloaded bytes differ from the uploaded ones"
    out = subprocess.run([*shlex.split(os.environ["SMOKE_SWIFT_CMD"]), uploaded["fname"]],
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert out == [hashlib.sha256(blob).hexdigest(), str(len(blob))], f"Swift holds {out} for {uploaded['fname']}"
    step(f"uploaded {len(blob)} bytes, downloaded them byte-identical, found them in Swift", started)

    plugins = user.get(f"{web}/api/v1/plugins/search/?name_exact=pl-dircopy", timeout=TIMEOUT).json()["results"]
    assert plugins, "pl-dircopy is not registered"
    dircopy = max(plugins, key=lambda p: tuple(int(x) for x in p["version"].split(".")))
    r = user.post(f"{web}/api/v1/plugins/{dircopy['id']}/instances/",
                  json={"dir": f"home/{username}/uploads/smoke", "title": "compose smoke"}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    inst = wait_for("pl-dircopy to finish", lambda: user.get(r.json()["url"], timeout=TIMEOUT).json(),
                    lambda b: b["status"] in ("finishedSuccessfully", "finishedWithError", "cancelled"))
    assert inst["status"] == "finishedSuccessfully", inst
    files = user.get(f"{web}/api/v1/plugins/instances/{inst['id']}/files/", timeout=TIMEOUT).json()["results"]
    copied = [f for f in files if f["fname"].endswith("/data.bin")]
    assert copied, [f["fname"] for f in files]
    assert user.get(copied[0]["file_resource"], timeout=120).content == blob
    step(f"pl-dircopy {dircopy['version']} ran in a plugin container: finishedSuccessfully, output identical",
         started)

    send_dicom(dicom_port, os.environ["SMOKE_PACS_AET"])
    listed = wait_for("the instance under /api/v1/pacs/files/",
                      lambda: admin.get(f"{web}/api/v1/pacs/files/", timeout=TIMEOUT).json(),
                      lambda b: b.get("count", 0) >= 1, timeout=60)
    step(f"C-STORE to the listener: {listed['results'][0]['fname']} listed under /api/v1/pacs/files/", started)


def send_dicom(port: int, calling_aet: str) -> None:
    from pydicom import examples
    from pynetdicom import AE

    ds = examples.ct
    ae = AE(ae_title=calling_aet)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="CHRIS")
    assert assoc.is_established, "the DICOM listener refused the association"
    try:
        status = assoc.send_c_store(ds)
        assert status and status.Status == 0, f"C-STORE status {status}"
    finally:
        assoc.release()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), int(sys.argv[2]))
