"""The folder a worker writes clips to, and whether it can.

A clip that cannot be written for lack of space or of permission is not the model's fault,
and the next one would fail the same way. So the job is failed with a sentence that says the
server could not store it, the admins are told once (the log, and the worker's problem in
`/admin stats`), and the worker claims nothing until a test write in the folder succeeds
again, trying every poll interval.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import secrets
from pathlib import Path

from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.workers import WorkerRegistry

log = logging.getLogger(__name__)

#: What a write fails with when the disk, not the clip, is the problem.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
                            errno.EPERM, errno.EFBIG})
#: The size of the test write that decides whether the folder takes clips again.
PROBE_BYTES = 1 << 20
#: A scratch file of a job's attempt (clip, poster or preview), written then renamed.
_SCRATCH = re.compile(r"^\.job-(\d+)-a(\d+)[.-].*\.part$")


def sweep_earlier_attempts(folder: Path, job_id: int, attempt: int) -> int:
    """Remove the scratch files an earlier attempt of the job left when its worker was killed
    mid-write (SIGKILL runs no cleanup). Safe with several workers on one folder: a job is
    claimed again only once its earlier attempt's lease is dead, so nobody writes those files
    any more. Returns how many were removed."""
    removed = 0
    try:
        entries = list(folder.glob(f".job-{job_id}-a*.part"))
    except OSError:
        return 0
    for entry in entries:
        match = _SCRATCH.match(entry.name)
        if match and int(match.group(1)) == job_id and int(match.group(2)) < attempt:
            try:
                entry.unlink(missing_ok=True)
                removed += 1
            except OSError as exc:
                log.warning("could not remove the stale scratch file %s: %s", entry, exc)
    return removed


def is_storage_error(exc: BaseException) -> bool:
    """Whether `exc` says the folder cannot take a file (full, read-only, forbidden)."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


class ClipFolder:
    """Tracks whether this worker can write its clips folder (see the module's text)."""

    def __init__(self, path: Path, *, registry: WorkerRegistry, worker_id: str) -> None:
        self.path = path
        self._registry = registry
        self._worker_id = worker_id
        #: What is wrong, for the admins; "" while clips can be written.
        self.problem = ""

    @property
    def blocked(self) -> bool:
        return bool(self.problem)

    async def failed(self, exc: OSError) -> None:
        """A clip could not be written: stop taking jobs until the folder takes files again
        (told to the admins once, not once per job)."""
        if self.blocked:
            return
        reason = exc.strerror or str(exc)
        self.problem = (f"cannot write clips to {self.path} ({reason}); it takes no jobs "
                        "until it can")
        log.error("the clips folder %s cannot be written (%s): the job fails with 'could not "
                  "store the clip', and this worker claims no job until a test write there "
                  "succeeds (free space or fix the permissions)", self.path, reason)
        await self._tell_admins(self.problem)

    async def ready(self) -> bool:
        """True when clips can be written: always, unless a write failed; then only once a
        test write succeeds (and the admins are told it is over)."""
        if not self.blocked:
            return True
        if not await asyncio.to_thread(self._test_write):
            return False
        log.info("the clips folder %s can be written again: claiming jobs", self.path)
        self.problem = ""
        await self._tell_admins("")
        return True

    def _test_write(self) -> bool:
        probe = self.path / f".probe-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with probe.open("wb") as handle:
                handle.write(bytes(PROBE_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            return True
        except OSError:
            return False
        finally:
            try:
                probe.unlink(missing_ok=True)
            except OSError:
                pass

    async def _tell_admins(self, problem: str) -> None:
        try:
            await self._registry.set_problem(self._worker_id, problem)
        except DATABASE_UNAVAILABLE as exc:
            if not is_unavailable(exc):
                raise
            log.warning("could not record the worker's problem (database unreachable)")
