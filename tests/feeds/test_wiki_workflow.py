"""The ChRIS wiki's "fs plugin upload feed" workflow, run verbatim with the real pfurl and httpie:
push DICOM into chris/uploads/DICOM/dataset1, run pl-dircopy on /DICOM/dataset1 with a Collection+JSON
template, poll the instance, list the feed's files, download one."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

import pytest

from tests.conftest import in_ci


def clients_bin() -> str:
    path = os.path.join(os.environ.get("CUBE_CACHE", os.path.expanduser("~/.cache/cube")), "clients-venv", "bin")
    if not (os.path.exists(os.path.join(path, "pfurl")) and os.path.exists(os.path.join(path, "http"))):
        if in_ci():
            pytest.fail("pfurl and httpie are required: run .ci/setup-clients.sh")
        pytest.skip("pfurl/httpie not installed (.ci/setup-clients.sh)")
    return path


def synth_dicom(path: str, n: int) -> None:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    for i in range(n):
        meta.MediaStorageSOPInstanceUID = generate_uid()
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.Modality, ds.InstanceNumber = "SAG-SYNTH", "MR", i + 1
        ds.save_as(os.path.join(path, f"{i + 1:04d}-{ds.SOPInstanceUID}.dcm"), enforce_file_format=True)


def run(argv: list[str], cwd: str | None = None) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=cwd)
    assert out.returncode == 0, (argv, out.stdout, out.stderr)
    return out.stdout


def collection(text: str) -> dict[str, Any]:
    body = json.loads(text)
    if isinstance(body, str):  # pfurl prints a POST's result as a JSON string holding the JSON
        body = json.loads(body)
    assert isinstance(body, dict), text
    # pfurl wraps the response body ({"status": ..., "data": body}; older versions used "stdout").
    body = body.get("data") or body.get("stdout") or body
    assert "collection" in body, text
    return body["collection"]  # pfurl --quiet prints the body (older ones wrap it)


@pytest.mark.django_db(transaction=True)
def test_wiki_workflow_verbatim(server: Any, tmp_path: Any) -> None:
    bin_dir = clients_bin()
    pfurl, http = os.path.join(bin_dir, "pfurl"), os.path.join(bin_dir, "http")
    host = server.url.removeprefix("http://")
    dicomdir = tmp_path / "SAG-anon"
    dicomdir.mkdir()
    synth_dicom(str(dicomdir), 5)
    # pushAllToCUBE.sh -D $DICOMDIR -P DICOM/dataset1: one upload per file into chris/uploads/DICOM/dataset1.
    for name in sorted(os.listdir(dicomdir)):
        run([http, "--ignore-stdin", "-a", "chris:chris1234", "-f", "POST", f"{server.url}/api/v1/uploadedfiles/",
             f"upload_path=chris/uploads/DICOM/dataset1/{name}", f"fname@{dicomdir / name}"])
    listing = collection(run([pfurl, "--auth", "chris:chris1234", "--http", f"{host}/api/v1/plugins/",
                              "--quiet", "--jsonpprintindent", "4"]))
    dircopy = next(item["href"] for item in listing["items"]
                   if {"name": "name", "value": "pl-dircopy"} in item["data"])
    created = collection(run([
        pfurl, "--auth", "chris:chris1234", "--verb", "POST", "--http",
        f"{dircopy.removeprefix('http://')}instances/", "--content-type", "application/vnd.collection+json",
        "--jsonwrapper", "template", "--msg", '{"data": [{"name":"dir", "value":"/DICOM/dataset1"}]}',
        "--quiet", "--jsonpprintindent", "4"]))
    instance = created["items"][0]["href"]
    deadline = time.monotonic() + 30
    while True:
        detail = collection(run([pfurl, "--auth", "chris:chris1234", "--verb", "GET", "--http",
                                 instance.removeprefix("http://"), "--content-type",
                                 "application/vnd.collection+json", "--quiet", "--jsonpprintindent", "4"]))
        data = {d["name"]: d["value"] for d in detail["items"][0]["data"]}
        if data["status"] == "finishedSuccessfully":
            break
        assert data["status"] not in ("finishedWithError", "cancelled"), data
        assert time.monotonic() < deadline, data
        time.sleep(0.2)
    feed_id = data["feed_id"]
    files = collection(run([pfurl, "--auth", "chris:chris1234", "--verb", "GET", "--http",
                            f"{host}/api/v1/{feed_id}/files/", "--content-type", "application/vnd.collection+json",
                            "--quiet", "--jsonpprintindent", "4"]))
    assert files["total"] == 5
    first = files["items"][0]
    fname = next(d["value"] for d in first["data"] if d["name"] == "fname")
    assert fname.startswith(f"chris/feeds/feed_{feed_id}/pl-dircopy_") and fname.endswith(".dcm")
    resource = next(link["href"] for link in first["links"] if link["rel"] == "file_resource")
    out = subprocess.run([http, "--ignore-stdin", "-a", "chris:chris1234", "--download", resource],
                         capture_output=True, timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    name = resource.rsplit("/", 1)[-1]
    # In a terminal httpie saves the file; with stdout redirected (as here) it writes the body there.
    got = (tmp_path / name).read_bytes() if (tmp_path / name).exists() else out.stdout
    assert got == (dicomdir / name).read_bytes()
