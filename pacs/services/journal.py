"""The registration journal: received instances that are stored but whose registration has not committed yet,
and the thread that registers them once the database is back.

Why: an instance is answered once it is in the spool and imported into storage right after, so a
registration batch that fails (the database restarting, failing over, refusing connections for longer
than the sink's half-minute of attempts) used to leave stored objects that nothing would ever register.
Now a batch's spool files stay until its registration has committed (:func:`pacs.services.spool.discard`),
so they are its durable journal entry; a batch that fails after its attempts is handed here, keeps its
spool files, and is registered again:

- by the running sink, every ``RETRY_FIRST_DELAY`` s doubling up to ``RETRY_MAX_DELAY`` s, on the sink's
  registrar thread (one attempt per batch per round, so a lookup for a C-STORE never waits behind a long
  sleep); one error line when an outage starts and one line when it ends, never one per instance;
- after a stop, by the next listener: its start-up recovery adopts the spool files a dead process left and
  registers them (registration is idempotent, and an object already in Swift is not sent again).

While an outage is known, new batches get one attempt instead of the half-minute of attempts: the sink
does not sleep on the registrar thread that C-STORE lookups share, and nothing is lost by joining the
journal at once. ``waiting`` counts the instances journalled; the listener reports it.

The cost: on Swift a spool file is a copy, so during an outage the spool holds every instance received
since it began (on the filesystem backend it is a second link to the stored object: no extra space).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from .registry import _Batch

log = logging.getLogger(__name__)

RETRY_FIRST_DELAY = 1.0  # seconds before the first retry of a journalled batch
RETRY_MAX_DELAY = 30.0  # the backoff's cap: an outage's end is noticed within this long


class Journal:
    """Batches whose registration failed, in arrival order, and the thread retrying them.

    ``register`` registers one batch (one attempt) and removes its spool files; ``recover`` is the sink's
    start-up recovery, retried here when the database was away at start. Both run on ``registrar``.
    """

    def __init__(self, registrar: ThreadPoolExecutor, register: Callable[[_Batch], int],
                 recover: Callable[[], None]) -> None:
        self._registrar = registrar
        self._register = register
        self._recover = recover
        self._batches: list[_Batch] = []
        self._recover_due = False
        self._cond = threading.Condition()
        self._closed = False
        self._since: float | None = None  # when the current outage was first noticed (monotonic)
        self._registered_late = 0
        self.waiting = 0
        self._thread = threading.Thread(target=self._run, name="pacs-journal", daemon=True)
        self._thread.start()

    @property
    def outage(self) -> bool:
        """True from a failed registration until the journal has been registered."""
        return self._since is not None

    def add(self, batch: _Batch, error: BaseException) -> None:
        with self._cond:
            self._batches.append(batch)
            self.waiting += batch.count
            self._begin(error)

    def recover_later(self, error: BaseException) -> None:
        with self._cond:
            self._recover_due = True
            self._begin(error)

    def _begin(self, error: BaseException) -> None:
        if self._since is None:
            self._since = time.monotonic()
            log.error("registering received instances failed (%s: %s); they stay in storage and in the spool "
                      "and are registered once the database is back (retrying every %g s at most)",
                      type(error).__name__, str(error).strip(), RETRY_MAX_DELAY)
            self._cond.notify_all()

    def close(self) -> None:
        """Stop retrying; what is journalled stays in the spool for the next start."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=60)
        if self.waiting:
            log.error("%d received instance(s) are stored but not registered; they stay in the spool and the "
                      "listener registers them at its next start", self.waiting)

    def _run(self) -> None:
        delay = RETRY_FIRST_DELAY
        while True:
            with self._cond:
                while not self._closed and self._since is None:
                    self._cond.wait()
                    delay = RETRY_FIRST_DELAY
                if self._closed:
                    return
                self._cond.wait(delay)  # only close() wakes this early: new failures do not shorten the backoff
                if self._closed:
                    return
            try:
                done = self._registrar.submit(self._retry).result()
            except RuntimeError:  # the registrar was shut down: the sink is closing
                return
            delay = RETRY_FIRST_DELAY if done else min(2 * delay, RETRY_MAX_DELAY)

    def _retry(self) -> bool:
        """One round on the registrar thread: True once everything journalled is registered."""
        try:
            if self._recover_due:
                self._recover_due = False
                self._recover()  # hands its own failure back through recover_later
            while True:
                with self._cond:
                    if not self._batches:
                        break
                    batch = self._batches[0]
                self._register(batch)
                with self._cond:
                    self._batches.pop(0)
                    self.waiting -= batch.count
                    self._registered_late += batch.count
        except Exception as exc:
            connections.close_all()  # a broken connection is not reused by the next round
            log.debug("journalled registration still failing: %s", exc)
            return False
        with self._cond:
            if self._batches or self._recover_due:
                return False
            if self._since is not None:
                log.warning("the database is back: registered the %d instance(s) that waited %.0f s",
                            self._registered_late, time.monotonic() - self._since)
            self._since = None
            self._registered_late = 0
        return True
