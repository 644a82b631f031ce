"""A live server with a real Celery worker for the Node suites (the fixtures tests/feeds uses), and the
Node toolchain they need: missing under CI=true is a failure, elsewhere a skip that says what to run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.feeds.conftest import server, worker  # noqa: F401 - fixtures used by this directory's tests
from tests.pacs.conftest import dicom_settings, listener, pacs_server  # noqa: F401 - the PACS suite's Orthanc

UI_DIR = Path(__file__).resolve().parent


def require(what: str, ok: bool, fix: str) -> None:
    if ok:
        return
    message = f"{what} is missing ({fix})"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    require("node", path is not None, "bash .ci/setup-ui.sh installs it")
    assert path is not None
    require("the npm packages in tests/ui", (UI_DIR / "node_modules" / "chrisapi-current" / "package.json").exists()
            and (UI_DIR / "node_modules" / "chrisapi-classic" / "package.json").exists(),
            "run `npm ci` in tests/ui, or bash .ci/setup-ui.sh")
    return path
