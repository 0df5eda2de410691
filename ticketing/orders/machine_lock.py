"""One purchase statement per event at a time from one machine (PURCHASE_LOCK_FILE).

Each app process batches its own purchases (ticketing/orders/batching.py), so with two
processes two batches of the same event reach PostgreSQL together and one waits for the
other's row lock. That wait is dear on this kind of machine: pgbench of
sql/orders/purchase.sql on one hot event sells 437-591 purchases/s with 1 client and
282-309/s with 2 (`python -m bench.batch --writers`,
docs/performance.md#one-statement-per-event-per-machine): the waiter sleeps on the
holder's transaction, wakes at its commit, locks the tuple and re-checks the row's
conditions against the new version. So a batch's leader first takes a lock that every app
process on the machine shares, one per event, and only then gathers its batch: the
purchases that arrived while it waited go into it, and the statement meets no lock.

The lock is an open-file-description record lock (fcntl F_OFD_SETLKW, Linux) of one byte
of PURCHASE_LOCK_FILE, at an offset derived from the event's id: one file for any number
of events, and the kernel releases it when the holder's process dies, so a worker killed
mid-batch blocks nobody. Not a classic POSIX lock (lockf): those belong to the process, so
the kernel takes two processes that each hold one event's lock on one thread and wait for
the other's on another thread for a deadlock (EDEADLK), though neither is. It is held only
while the batch's statement runs, which its pool and statement timeouts bound. It is an
optimisation, never the arbiter: app instances on other machines, and every other
statement on the event row, still meet at the row lock, and PostgreSQL decides.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import struct
import threading

log = logging.getLogger(__name__)


class MachineLock:
    def __init__(self, path: str):
        self.path = path
        self._pid = None
        self._fd: int | None = None
        self._opening = threading.Lock()

    def _file(self) -> int | None:
        # A forked child shares its parent's open file, and OFD locks with it: each process
        # opens its own.
        pid = os.getpid()
        if self._pid != pid:
            with self._opening:
                if self._pid != pid:
                    self._fd = self._open()
                    self._pid = pid
        return self._fd

    def _open(self) -> int | None:
        if not hasattr(fcntl, "F_OFD_SETLKW"):
            log.warning("no open-file-description locks here: purchase batches run unlocked")
            return None
        try:  # never through a symlink someone left in a shared /tmp (nothing is written, still)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            log.warning("purchase lock file %s unusable (%s): batches run unlocked", self.path, error)
            return None

    @contextlib.contextmanager
    def held(self, key: str):
        """Hold the machine's lock for `key` (an event's id) around the block. Yields True
        while held; False when the file or the lock could not be had (the batch runs
        unlocked: PostgreSQL still decides). The process's threads share its open file:
        the batcher runs one batch per key per process at a time."""
        fd = self._file()
        if fd is None:
            yield False
            return
        offset = offset_of(key)
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _flock(fcntl.F_WRLCK, offset))
        except OSError as error:  # e.g. ENOLCK
            log.warning("purchase lock of %s not taken (%s): this batch runs unlocked", key, error)
            yield False
            return
        try:
            yield True
        finally:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock(fcntl.F_UNLCK, offset))


def _flock(kind: int, offset: int) -> bytes:
    """struct flock for one byte at `offset` (l_pid 0, as OFD locks require)."""
    return struct.pack("hhqqi4x", kind, os.SEEK_SET, offset, 1, 0)


def offset_of(key: str) -> int:
    """A byte of the lock file for `key`: 56 bits, so two events sharing one is unheard of
    (and would only make them take turns)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=7).digest(), "big")
