"""The ingest sink: what the storage SCP (and a C-GET) does with each received instance.

Each instance is written to the spool at once and answered (:mod:`pacs.services.spool`), then imported
into storage right after the answer (see "Imports" below), under

    SERVICES/PACS/<node>/<PatientID-PatientName-BirthDate-Age>/<StudyDescription-Accession-StudyDate>/
        <SeriesNumber-SeriesDescription-hash>/<SOPInstanceUID>.dcm

(every component sanitised: letters, digits, '.', '_' and '-' only), and registered in the file registry in
batches: every ``batch_size`` instances or ``batch_seconds`` of an association, and when it ends. A batch
is a few queries whatever its size (:mod:`pacs.services.registry`), so the registry follows a transfer
closely enough for progress bars without a query per instance. A batch whose database goes away (a
restart, a failover) is registered again on a new connection for about half a minute; one that still
fails is journalled (:mod:`pacs.services.journal`): its spool files, which stay until a batch's
registration has committed, are registered by the running sink once the database is back, or by the next
listener's start-up recovery. ``waiting_registration`` counts them.

All database work runs on one registrar thread owned by the sink, never on pynetdicom's association threads
(which come and go and would each leave a connection behind); C-STORE handling only waits for it when a new
caller or series must be looked up. Registration
is idempotent: instances already registered (a retrieve repeated, an instance sent twice) are written again
(same bytes) and not registered twice.
The node is the one whose AE title matches the association's calling AE; an unknown or inactive caller
gets "Refused: Not authorized" (0x0124) and one log line per association.

Imports: the filesystem backend links a spooled instance into storage in microseconds, so that runs on the
association's thread right after the answer. Where the storage says an import is a network round trip
(``Storage.remote_imports``: Swift's PUT), one association importing one instance at a time would be
bounded by that round trip, so imports run in a pool of ``CUBE_PACS_IMPORT_THREADS`` threads shared by all
associations. At most twice that many imports wait or run at once: beyond that the association's thread
waits for a slot, so a PACS faster than storage is slowed down rather than filling the spool without bound.
An instance enters its association's batch only once its object is stored, and an association's end (and
``flush``) first waits for that association's imports, so its last batch is complete. An import that fails
leaves the instance in the spool, unregistered, for the next start to recover; it is counted in
``registration_errors``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

from cube.storage import clean_key, get_storage
from pacs.dicom import (
    SERIES_INDEX_KEYS,
    ReceivedInstance,
    dataset_to_dict,
    safe_path_component,
)
from uploads.services import superuser

from ..models import PACS, PACSSeries
from .journal import Journal
from .recovery import already_stored, node_of_key, placement
from .registry import NodeRef, _Batch, _SeriesBatch, register_batch, series_folder_path
from .spool import Spool, discard, identity, orphan_folders

log = logging.getLogger(__name__)

STATUS_SUCCESS = 0x0000
STATUS_NOT_AUTHORIZED = 0x0124  # Refused: Not authorized (PS3.7 C.4)
STATUS_DATASET_MISMATCH = 0xA900
ENDING_WAIT = 300.0  # seconds an association's end waits for its imports and its last batch
# A batch whose database went away is tried again for about half a minute (0.5 + 1 + ... + 8 s): long enough
# for a restart or a failover, short enough that an outage shows in the logs and the retrieve's status.
# After that it is journalled and retried with a capped backoff (pacs.services.journal).
REGISTER_ATTEMPTS = 6
REGISTER_FIRST_DELAY = 0.5
_DB_ERRORS = (OperationalError, InterfaceError)
# --- the sink ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spooled:
    """A received instance in the spool, answered, to be imported into storage and then registered."""

    assoc_id: int
    node: NodeRef
    series_uid: str
    folder: str
    meta: dict[str, Any]
    path: Path
    key: str
    recovered: bool = False  # adopted from a stopped listener's spool: maybe already in storage


class RegistrySink:
    """A pacs.dicom StorageSink that stores into cube storage and registers in the file registry.

    ``node`` fixes the PACS (a C-GET knows whom it asked); otherwise the calling AE title decides.
    Each instance is answered once it is in the spool (see :mod:`pacs.services.spool`), imported into
    storage right after the answer, on the association's thread, while the PACS prepares the next one,
    and registered in batches on the registrar thread.
    """

    def __init__(self, *, node: NodeRef | None = None, batch_size: int = 100, batch_seconds: float = 0.5,
                 cache_seconds: float = 5.0, import_threads: int | None = None) -> None:
        self._fixed = node
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.cache_seconds = cache_seconds
        self._storage = get_storage()
        self._spool = Spool()
        self._registrar = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pacs-registrar")
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # an import ended (in-flight counts, busy keys)
        threads = settings.CUBE_PACS_IMPORT_THREADS if import_threads is None else import_threads
        # Only where an import is a round trip: a hard link on the association's thread beats any hand-over.
        self._importer: ThreadPoolExecutor | None = None
        if threads > 0 and self._storage.remote_imports:
            self._importer = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pacs-import")
        self._slots = threading.BoundedSemaphore(2 * max(threads, 1))
        self._importing: dict[int, int] = {}  # association → its imports queued or running
        self._busy: set[str] = set()  # storage keys spooled and not yet imported (one spool file per key)
        self._abandoned: set[int] = set()  # ended associations that stopped waiting for their imports
        self._nodes: dict[str, tuple[NodeRef | None, float]] = {}
        self._folders: dict[tuple[int, str], tuple[str, dict[str, Any], float]] = {}
        self._pending: dict[int, _Batch] = {}
        self._refused: set[int] = set()
        self._inflight: set[Future[int]] = set()
        self._owner: Any = None  # the superuser, loaded on the registrar thread
        self.stored = 0
        self.registered = 0
        self.refused = 0
        self.registration_errors = 0
        self._journal = Journal(self._registrar, self._register_once, self._recover)

    @property
    def waiting_registration(self) -> int:
        """Instances stored whose registration failed and waits for the database (journalled)."""
        return self._journal.waiting

    # registrar-thread work

    def _on_registrar(self, fn: Any, *args: Any) -> Any:
        return self._registrar.submit(fn, *args).result()

    def _lookup_node(self, aet: str) -> NodeRef | None:
        rows = list(PACS.objects.filter(aet=aet, active=True).order_by("id").values_list("id", "identifier")[:2])
        if len(rows) > 1:
            log.warning("several active PACS use AE title %r; instances from it are filed under %r", aet, rows[0][1])
        return NodeRef(*rows[0]) if rows else None

    def _existing_folder(self, node_id: int, uid: str) -> str | None:
        row = PACSSeries.objects.filter(pacs_id=node_id, SeriesInstanceUID=uid).values_list("folder__path", flat=True)
        return row.first()

    def _db(self, fn: Any, *args: Any) -> Any:
        """A lookup on the registrar thread; a connection the database dropped is closed, not reused."""
        try:
            return fn(*args)
        except _DB_ERRORS:
            connections.close_all()
            raise

    def _register(self, batch: _Batch) -> int:
        # Once an outage is known new batches join the journal after one attempt: the registrar thread is
        # shared with C-STORE lookups and must not sleep for half a minute per batch.
        attempts = 1 if self._journal.outage else REGISTER_ATTEMPTS
        delay = REGISTER_FIRST_DELAY
        for attempt in range(1, attempts + 1):
            try:
                return self._register_once(batch)
            except _DB_ERRORS as exc:
                # The database went away (a restart, a failover, a killed connection): wait, reconnect (this
                # thread's connections only) and register again; registration is idempotent.
                connections.close_all()
                if attempt == attempts:
                    error: BaseException = exc
                    break
                log.warning("registering %d received instance(s): the database is unavailable; attempt %d of "
                            "%d in %.1f s", batch.count, attempt + 1, attempts, delay)
                time.sleep(delay)
                delay *= 2
            except Exception as exc:
                log.exception("registering %d received instance(s) failed", batch.count)
                error = exc
                break
        with self._lock:
            self.registration_errors += 1
        self._journal.add(batch, error)
        return 0

    def _register_once(self, batch: _Batch) -> int:
        """Register a batch, then remove its spool files: only a committed registration ends their journal."""
        if self._owner is None:
            self._owner = superuser()
        created = register_batch(batch, self._owner)  # autocommit: every write has committed on return
        entries = list(batch.spooled.items())
        for i in range(0, len(entries), 100):  # a recovered batch can be large: C-STOREs share this lock
            with self._lock:  # no store() can be replacing a spool file whose key is not busy
                for key, (path, ident) in entries[i:i + 100]:
                    if key not in self._busy:
                        discard(path, ident)
        with self._lock:
            self.registered += created
        return created

    def _adopt(self, path: Path, key: str, nodes: dict[str, NodeRef | None]) -> _Spooled | None:
        """A dead process's spool file, moved into this spool (where it is journalled until registered)."""
        node = node_of_key(key, nodes)
        try:
            with path.open("rb") as fh:
                where = placement(fh, node) if node is not None else None
        except OSError:
            where = None
        if where is None:
            log.warning("spooled file %s is not an instance of a known PACS node; left in place", path)
            return None
        self._claim(key)
        try:
            adopted = self._spool.adopt(path, key)
        except BaseException:
            self._release_key(key)
            raise
        return _Spooled(0, where.node, where.series_uid, key.rsplit("/", 1)[0], where.meta, adopted, key, True)

    def _recover(self) -> None:
        """Register what processes that are gone left in the spool (answered, maybe imported, never registered).

        Runs on the registrar thread. A database away at start leaves the files where they are, and the
        journal runs this again once the database is back."""
        count = 0
        nodes: dict[str, NodeRef | None] = {}
        try:
            with closing(orphan_folders()) as folders:  # a failure releases the folder's lock at once
                for folder in folders:
                    items: list[_Spooled] = []
                    try:
                        for path, key in folder:
                            item = self._adopt(path, key, nodes)
                            if item is not None:
                                items.append(item)
                    finally:  # even when a lookup failed: what was adopted is imported (and its key released)
                        if self._importer is not None:  # remote imports overlap here too
                            list(self._importer.map(lambda item: self._import(item, submit=False), items))
                        else:
                            for item in items:
                                self._import(item, submit=False)
                        count += len(items)
        except _DB_ERRORS as exc:
            connections.close_all()
            self._journal.recover_later(exc)
        with self._lock:
            batch = self._pending.pop(0, None)
        if batch is not None:
            self._register(batch)
        if count:
            log.warning("registering %d instance(s) a stopped listener had left in the spool", count)

    def recover(self) -> Future[Any]:
        """Import what stopped listeners left in the spool, on the registrar thread; returns its future."""
        return self._registrar.submit(self._recover)

    # C-STORE path (association threads)

    def _node_for(self, instance: ReceivedInstance) -> NodeRef | None:
        if self._fixed is not None:
            return self._fixed
        aet = instance.calling_aet.strip()
        now = time.monotonic()
        cached = self._nodes.get(aet)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            node = self._on_registrar(self._db, self._lookup_node, aet)
        except _DB_ERRORS:
            if cached is None:
                raise
            node = cached[0]  # the database is away: the node known a moment ago still is (it is journalled)
        self._nodes[aet] = (node, now + self.cache_seconds)
        return node

    def _series_for(self, node: NodeRef, uid: str, instance: ReceivedInstance) -> tuple[str, dict[str, Any]]:
        """The series' folder and index metadata, looked up (and the header decoded) once per series."""
        now = time.monotonic()
        cached = self._folders.get((node.id, uid))
        if cached is not None and cached[2] > now:
            return cached[0], cached[1]
        meta = dataset_to_dict(instance.header(), SERIES_INDEX_KEYS)
        # A series already registered keeps its folder even if names in later instances differ.
        try:
            existing = self._on_registrar(self._db, self._existing_folder, node.id, uid)
        except _DB_ERRORS:
            existing = None  # the database is away: keep receiving, named as a new series would be
        folder = existing or series_folder_path(node.identifier, meta)
        self._folders[(node.id, uid)] = (folder, meta, now + 60.0)
        return folder, meta

    def store(self, instance: ReceivedInstance) -> int:
        node = self._node_for(instance)
        if node is None:
            with self._lock:
                first = instance.assoc_id not in self._refused
                self._refused.add(instance.assoc_id)
                self.refused += 1
            if first:
                log.warning("refusing instances from AE title %r: no active PACS node has it (register one with "
                            "manage.py pacs_node add, or at /chris-admin/api/v1/pacs/)", instance.calling_aet)
            return STATUS_NOT_AUTHORIZED
        study_uid, uid = instance.series_uids()
        if not uid or not study_uid:
            log.warning("refusing %s from %s: no StudyInstanceUID/SeriesInstanceUID", instance.sop_instance_uid,
                        instance.calling_aet)
            return STATUS_DATASET_MISMATCH
        folder, meta = self._series_for(node, uid, instance)
        key = clean_key(f"{folder}/{safe_path_component(instance.sop_instance_uid)}.dcm")  # as storage will
        self._claim(key)
        try:
            path = self._spool.write(instance, key)
        except BaseException:
            self._release_key(key)
            raise
        item = _Spooled(instance.assoc_id, node, uid, folder, meta, path, key)
        with self._lock:
            self.stored += 1
        instance.defer(lambda: self._import_soon(item))
        return STATUS_SUCCESS

    def _claim(self, key: str) -> None:
        with self._changed:
            # The same instance sent again (or by another association) before the first copy is imported
            # would replace its spool file under that import: wait for it (rare: a repeat a moment apart).
            deadline = time.monotonic() + ENDING_WAIT
            while key in self._busy and self._changed.wait(max(0.0, deadline - time.monotonic())):
                pass
            if key in self._busy:
                log.warning("%s is still being imported after %g s; receiving it again anyway", key, ENDING_WAIT)
            self._busy.add(key)

    def _release_key(self, key: str) -> None:
        with self._changed:
            self._busy.discard(key)
            self._changed.notify_all()

    def _import_soon(self, item: _Spooled) -> None:
        """Import now on this thread (a local link), or hand the import to the pool (a remote PUT)."""
        if self._importer is None:
            self._import(item)
            return
        self._slots.acquire()  # back-pressure: the PACS waits for our next answer while storage catches up
        with self._lock:
            self._importing[item.assoc_id] = self._importing.get(item.assoc_id, 0) + 1
        try:
            self._importer.submit(self._import_pooled, item)
        except BaseException:  # the sink is closing: the instance stays in the spool for the next start
            self._import_ended(item.assoc_id)
            self._release_key(item.key)
            raise

    def _import_pooled(self, item: _Spooled) -> None:
        try:
            self._import(item)
        except Exception:
            log.exception("importing received instance %s failed", item.key)
        finally:
            self._import_ended(item.assoc_id)

    def _import_ended(self, assoc_id: int) -> None:
        self._slots.release()
        orphaned: _Batch | None = None
        with self._changed:
            left = self._importing[assoc_id] - 1
            if left:
                self._importing[assoc_id] = left
            else:
                del self._importing[assoc_id]
                if assoc_id in self._abandoned:  # its end gave up waiting: the last import submits its batch
                    self._abandoned.discard(assoc_id)
                    orphaned = self._pending.pop(assoc_id, None)
            self._changed.notify_all()
        if orphaned is not None:
            self._submit(orphaned)

    def _wait_imports(self, assoc_id: int | None, timeout: float) -> bool:
        """Wait until the association's imports (None: everyone's) have ended; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._importing if assoc_id is None else assoc_id in self._importing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _import(self, item: _Spooled, submit: bool = True) -> None:
        """Move a spooled instance into storage and its association's batch; hand a full batch to the registrar."""
        try:
            ident = identity(item.path)  # the spool file stays, as the journal entry, until registered
            stored = None
            if item.recovered and self._storage.remote_imports:
                stored = already_stored(self._storage, item.path, item.key)  # a HEAD rather than a second PUT
            if stored is None:
                stored = self._storage.import_file(str(item.path), item.key)
        except Exception:
            with self._lock:
                self.registration_errors += 1
            log.exception("importing received instance %s into storage failed; it stays at %s until the "
                          "listener restarts", item.key, item.path)
            return
        finally:
            self._release_key(item.key)
        due: _Batch | None = None
        with self._lock:
            batch = self._pending.setdefault(item.assoc_id, _Batch())
            key_series = (item.node.id, item.series_uid)
            entry = batch.series.get(key_series)
            if entry is None:
                entry = batch.series[key_series] = _SeriesBatch(item.node, item.folder, item.meta)
            if item.key not in entry.objects:
                batch.count += 1
            entry.objects[item.key] = (item.key, stored.size, stored.md5)
            batch.spooled[item.key] = (item.path, ident)
            if submit and (batch.count >= self.batch_size or time.monotonic() - batch.started >= self.batch_seconds):
                due = self._pending.pop(item.assoc_id)
        if due is not None:
            self._submit(due)

    def _submit(self, batch: _Batch) -> Future[int]:
        future = self._registrar.submit(self._register, batch)
        with self._lock:
            self._inflight.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[int]) -> None:
        with self._lock:
            self._inflight.discard(future)

    def association_ended(self, assoc_id: int, calling_aet: str, aborted: bool) -> None:
        if aborted:
            log.warning("association %s from %s was aborted; registering what arrived", assoc_id, calling_aet)
        # Its last instances may still be on their way into storage: the batch is complete only after them.
        imported = self._wait_imports(assoc_id, ENDING_WAIT)
        with self._lock:
            self._refused.discard(assoc_id)
            if not imported and assoc_id in self._importing:
                self._abandoned.add(assoc_id)
                log.error("association %s from %s ended %g s ago and some of its instances are still being "
                          "imported into storage; they are registered once imported", assoc_id, calling_aet,
                          ENDING_WAIT)
                return
            batch = self._pending.pop(assoc_id, None)
        if batch is not None:
            try:
                self._submit(batch).result(timeout=ENDING_WAIT)
            except Exception:  # noqa: S110 - logged by _register; the listener keeps serving
                pass

    def flush(self, timeout: float = 300) -> None:
        """Register everything received so far and wait for it (pending batches of open associations too)."""
        if not self._wait_imports(None, timeout):
            log.error("instances received %g s ago are still being imported into storage", timeout)
        with self._lock:
            batches = list(self._pending.values())
            self._pending.clear()
        for batch in batches:
            self._submit(batch)
        with self._lock:
            inflight = list(self._inflight)
        for future in inflight:
            try:
                future.result(timeout=timeout)
            except Exception:  # noqa: S110 - logged by _register
                pass

    def close(self) -> None:
        """Flush, then release the journal, import and registrar threads, the database connection and the spool
        folder (which keeps whatever is still journalled, for the next start)."""
        self.flush()
        self._journal.close()
        if self._importer is not None:
            self._importer.shutdown(wait=True)
        self._registrar.submit(connections.close_all).result()
        self._registrar.shutdown(wait=True)
        self._spool.remove()
