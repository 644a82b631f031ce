"""A storage sink that writes received instances as files under a root directory.

Layout: ``<root>/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``. Used by
tests and benchmarks, and as a plain "receive into a folder" listener.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from .sink import (
    STATUS_DATASET_MISMATCH,
    STATUS_SUCCESS,
    ReceivedInstance,
    SeriesReceipt,
    SeriesTally,
)

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_COMPONENT = 64


def safe_path_component(value: object, default: str = "UNKNOWN") -> str:
    """One path component from a DICOM value: no separators, no dot-names, bounded length.

    Identical inputs give identical outputs, so re-delivery lands on the same path.
    """
    text = _UNSAFE.sub("_", str(value if value is not None else "").strip())[:_MAX_COMPONENT]
    text = text.lstrip(".")
    return text or default


class FileSink:
    """Writes each instance once; duplicates are acknowledged and counted, never rewritten."""

    def __init__(
        self,
        root: Path | str,
        on_series: Callable[[SeriesReceipt], None] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.on_series = on_series
        self.stored = 0
        self.duplicates = 0
        self.rejected = 0
        self.bytes_written = 0
        self.completed: list[SeriesReceipt] = []
        self.tally = SeriesTally()
        self._lock = threading.Lock()
        self._known_dirs: set[Path] = set()

    def series_dir(self, patient_id: object, study_uid: object, series_uid: object) -> Path:
        """The folder of a series; refuses (ValueError) anything that would leave the root."""
        path = self.root / safe_path_component(patient_id) / safe_path_component(study_uid) / safe_path_component(
            series_uid
        )
        if path in self._known_dirs:
            return path
        if not path.resolve().is_relative_to(self.root):  # defence in depth against planted symlinks
            raise ValueError(f"refusing to write outside {self.root}: {path}")
        path.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._known_dirs.add(path)
        return path

    def path_for(self, patient_id: object, study_uid: object, series_uid: object, sop_uid: object) -> Path:
        """Where an instance goes (the series folder is created and checked on first use)."""
        # A sanitised component has no separator, so the file cannot leave its checked folder.
        return self.series_dir(patient_id, study_uid, series_uid) / f"{safe_path_component(sop_uid)}.dcm"

    def store(self, instance: ReceivedInstance) -> int:
        header = instance.header()
        study_uid = header.get("StudyInstanceUID")
        series_uid = header.get("SeriesInstanceUID")
        if not study_uid or not series_uid:
            log.warning(
                "rejecting %s from %s: no StudyInstanceUID/SeriesInstanceUID",
                instance.sop_instance_uid,
                instance.calling_aet,
            )
            with self._lock:
                self.rejected += 1
            return STATUS_DATASET_MISMATCH
        dest = self.path_for(header.get("PatientID"), study_uid, series_uid, instance.sop_instance_uid)
        series_dir = dest.parent
        duplicate = dest.exists()
        size = 0
        if not duplicate:
            size = instance.size
            instance.write_to(dest)
        self.tally.add(instance, header, str(series_dir.relative_to(self.root)), duplicate)
        with self._lock:
            if duplicate:
                self.duplicates += 1
            else:
                self.stored += 1
                self.bytes_written += size
        return STATUS_SUCCESS

    def association_ended(self, assoc_id: int, calling_aet: str, aborted: bool) -> None:
        receipts = self.tally.pop(assoc_id)
        with self._lock:
            self.completed.extend(receipts)
        if aborted:
            log.warning("association %s from %s aborted after %d series", assoc_id, calling_aet, len(receipts))
        if self.on_series is not None:
            for receipt in receipts:
                self.on_series(receipt)
