"""A strict PACS (checks AE titles) and the package's import boundaries."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pacs.dicom import DicomAssociationError, PacsNode, echo, find
from tests.support.orthanc import Orthanc

from .conftest import OUR_AET

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def strict_pacs(orthanc: Orthanc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    # Depends on the session Orthanc only so that a missing Orthanc fails or skips the same way.
    server = Orthanc(
        tmp_path_factory.mktemp("strict-orthanc"),
        modalities={"cubetest": (OUR_AET, "127.0.0.1", 9)},
        config={"DicomCheckCalledAet": True, "DicomAlwaysAllowEcho": False},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_wrong_called_aet_is_rejected_with_the_reason(strict_pacs: Orthanc) -> None:
    result = echo(PacsNode("NOTTHEPACS", "127.0.0.1", strict_pacs.dicom_port, calling_aet=OUR_AET))
    assert not result.ok
    assert "refused the association" in result.message
    assert "Called AE title not recognised" in result.message
    assert "'NOTTHEPACS'" in result.message
    with pytest.raises(DicomAssociationError, match="refused the association"):
        find(PacsNode("NOTTHEPACS", "127.0.0.1", strict_pacs.dicom_port, calling_aet=OUR_AET), "STUDY", {})


def test_unregistered_calling_aet_is_told_to_register(strict_pacs: Orthanc) -> None:
    result = echo(PacsNode(strict_pacs.aet, "127.0.0.1", strict_pacs.dicom_port, calling_aet="STRANGER"))
    assert not result.ok
    assert "'STRANGER'" in result.message and "registered" in result.message
    assert echo(PacsNode(strict_pacs.aet, "127.0.0.1", strict_pacs.dicom_port, calling_aet=OUR_AET)).ok


def _imports(path: Path, only_if: str | None = None) -> set[str]:
    text = path.read_text()
    if only_if is not None and only_if not in text:
        return set()
    tree = ast.parse(text, str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _project_files() -> Iterator[Path]:
    skip = {".venv", ".git", "node_modules", "var", "__pycache__"}
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith(".")]
        yield from (Path(root) / f for f in files if f.endswith(".py"))


def test_only_pacs_dicom_imports_pynetdicom() -> None:
    package = REPO / "pacs" / "dicom"
    offenders = [
        str(p.relative_to(REPO)) for p in _project_files() if "pynetdicom" in _imports(p, "pynetdicom") and package not in p.parents
    ]
    assert offenders == []


def test_pacs_dicom_does_not_import_django() -> None:
    offenders = [str(p) for p in (REPO / "pacs" / "dicom").glob("*.py") if "django" in _imports(p)]
    assert offenders == []
