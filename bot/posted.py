"""The bot's journal of what it posted: a local file written the moment a platform answers.

A clip posted but not yet recorded is posted again after a crash. The job table is the
record, but writing to it can wait: behind the database's one writer (a worker finishing a
job, a burst of submissions) or a server away. So the platform's answer (the posted message's
id) and the fact that a job was posted go first to this journal, one JSON line each, flushed
to disk (fsync) in a thread, with no lock shared with any other process: the window in which a
crash loses the answer is its transit back from the platform plus a local write. The journal
is read back at start, and an entry is dropped once the delivery is in the job table.

Lines are `{"job": 12, ...values}`; an entry merges its job's lines. A torn last line (a crash
mid-write) is skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

JOURNAL_FILE = "posted.jsonl"
#: The journal's own keys; the rest of an entry is the platform's answer, which the delivery
#: loop keeps in the job's reply target: the job was posted; an adapter began posting it.
POSTED, POSTING = "posted", "posting"
#: Rewrite the file (without forgotten entries) after this many are forgotten.
COMPACT_EVERY = 200


class PostedJournal:
    """Entries by job id; `path=None` keeps them in memory only (nothing survives a crash)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[int, dict[str, Any]] = {}
        self._forgotten = 0
        self._file_lock = threading.Lock()
        if path is not None and path.exists():
            self._entries = _read(path)

    def get(self, job_id: int) -> dict[str, Any]:
        """What was recorded of the job (empty when nothing was)."""
        return dict(self._entries.get(job_id, {}))

    async def record(self, job_id: int, **values: Any) -> None:
        """Add `values` to the job's entry, on disk before returning."""
        self._entries.setdefault(job_id, {}).update(values)
        if self.path is not None:
            line = json.dumps({"job": job_id, **values}, separators=(",", ":")) + "\n"
            await asyncio.to_thread(self._append, line)

    async def forget(self, job_id: int) -> None:
        """Drop the job's entry (its delivery is in the job table now)."""
        if self._entries.pop(job_id, None) is None:
            return
        self._forgotten += 1
        if self._forgotten >= COMPACT_EVERY and self.path is not None:
            self._forgotten = 0
            await asyncio.to_thread(self._rewrite)

    async def retain(self, job_ids: Collection[int]) -> None:
        """Keep only the entries of `job_ids` (the jobs still undelivered), on disk too."""
        stale = set(self._entries) - set(job_ids)
        for job_id in stale:
            del self._entries[job_id]
        if stale and self.path is not None:
            await asyncio.to_thread(self._rewrite)

    def _append(self, line: str) -> None:
        assert self.path is not None
        with self._file_lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode())
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def _rewrite(self) -> None:
        assert self.path is not None
        with self._file_lock:
            lines = "".join(json.dumps({"job": job_id, **values}, separators=(",", ":")) + "\n"
                            for job_id, values in list(self._entries.items()))
            scratch = self.path.with_name(f".{self.path.name}.part")
            with scratch.open("w", encoding="utf-8") as out:
                out.write(lines)
                out.flush()
                os.fsync(out.fileno())
            os.replace(scratch, self.path)


def _read(path: Path) -> dict[int, dict[str, Any]]:
    entries: dict[int, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            values = json.loads(line)
            job_id = int(values.pop("job"))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s line %s is torn or not a journal entry; skipped", path, number)
            continue
        entries.setdefault(job_id, {}).update(values)
    return entries
