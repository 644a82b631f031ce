"""The ChRIS web UI's client library (@fnndsc/chrisapi, current 1.23 and classic 1.14) and a browser
page on another origin, driving a live server with a real Celery worker: each runs a Node suite
(node --test) and fails with its output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from .conftest import UI_DIR, require

NODE_TIMEOUT = 240


def run_node(node: str, server: Any, files: list[str], **env: str) -> str:
    # 127.0.0.1 rather than localhost: Node may try ::1 first, where the live server does not listen.
    api = server.url.replace("://localhost", "://127.0.0.1") + "/api/v1/"
    proc = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=UI_DIR, env={**os.environ, "CUBE_URL": api, "CUBE_ADMIN_PASSWORD": "chris1234", **env},
        capture_output=True, text=True, timeout=NODE_TIMEOUT)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"node --test {' '.join(files)} failed ({proc.returncode}):\n{output}", pytrace=False)
    passed = re.search(r"ℹ pass (\d+)", output)
    failed = re.search(r"ℹ fail (\d+)", output)
    skipped = re.search(r"ℹ skipped (\d+)", output)
    assert passed and int(passed.group(1)) > 0, output
    assert failed and int(failed.group(1)) == 0, output
    assert skipped and int(skipped.group(1)) == 0, output  # a suite that skips itself proves nothing
    print(output)  # shown with -s or -rP: the todo lines list what the client needs that is not built yet
    return output


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", ["current", "classic"])
def test_chrisapi_workflow_and_link_relations(node: str, server: Any, version: str) -> None:
    output = run_node(node, server, ["workflow.test.mjs", "relations.test.mjs"], CHRISAPI_VERSION=version)
    semver = "1.23" if version == "current" else "1.14"
    assert f"@fnndsc/chrisapi {semver}" in output, output


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", ["current", "classic"])
def test_chrisapi_pipelines_workflows_tags_notes_comments_sharing_splits(node: str, server: Any, version: str) -> None:
    output = run_node(node, server, ["pipelines.test.mjs", "social.test.mjs"], CHRISAPI_VERSION=version)
    assert f"chrisapi-{version}" in output and "the pipeline pages" in output, output


@pytest.mark.django_db(transaction=True)
def test_browser_on_another_origin_logs_in_and_lists_feeds(node: str, server: Any) -> None:
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    require("Debian's chromium", os.path.exists(chromium), "apt-get install chromium, or bash .ci/setup-ui.sh")
    require("playwright-core", (UI_DIR / "node_modules" / "playwright-core" / "package.json").exists(),
            "run `npm ci` in tests/ui")
    run_node(node, server, ["browser.test.mjs"], CHRISAPI_VERSION="current", CHROMIUM_PATH=chromium)


@pytest.mark.django_db(transaction=True)
def test_chrisapi_pacs_pages(node: str, server: Any, listener: Any, pacs_server: Any) -> None:
    """A real Orthanc registered as ORTHANC and our DICOM listener: the current client queries and
    retrieves, then the classic one finds the retrieved files."""
    from pacs.services.nodes import pacs_create

    orthanc = pacs_server.orthanc
    pacs_create(identifier="ORTHANC", aet=orthanc.aet, host=orthanc.host, port=orthanc.dicom_port)
    patient = pacs_server.patients[0].patient_id
    for version in ("current", "classic"):
        output = run_node(node, server, ["pacs.test.mjs"], CHRISAPI_VERSION=version, PACS_PATIENT_ID=patient)
        assert f"chrisapi-{version}: the PACS pages" in output, output
