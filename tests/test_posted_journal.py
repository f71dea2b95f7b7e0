"""The bot's journal of what it posted: on disk before `record` returns, read back at start,
a torn last line skipped, forgotten entries gone from the file once it is rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import posted
from bot.posted import PostedJournal


async def test_entries_survive_a_restart_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "posted.jsonl"
    journal = PostedJournal(path)
    await journal.record(7, posting=True)
    await journal.record(7, result_message_id=1001)
    await journal.record(8, posted=True)
    with path.open("a") as torn:  # a crash in the middle of a line
        torn.write('{"job": 9, "resu')
    again = PostedJournal(path)
    assert again.get(7) == {"posting": True, "result_message_id": 1001}
    assert again.get(8) == {"posted": True}
    assert again.get(9) == {}


async def test_forgotten_and_stale_entries_leave_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "posted.jsonl"
    journal = PostedJournal(path)
    for job_id in range(1, 6):
        await journal.record(job_id, posted=True)
    await journal.retain({2, 3, 4, 5})  # job 1 was delivered before a crash
    assert PostedJournal(path).get(1) == {}
    monkeypatch.setattr(posted, "COMPACT_EVERY", 2)
    await journal.forget(2)
    await journal.forget(3)
    assert len(path.read_text().splitlines()) == 2
    assert {job_id for job_id in range(1, 6) if PostedJournal(path).get(job_id)} == {4, 5}


async def test_without_a_path_it_remembers_in_memory_only(tmp_path: Path) -> None:
    journal = PostedJournal(None)
    await journal.record(1, posted=True)
    assert journal.get(1) == {"posted": True}
    await journal.forget(1)
    assert journal.get(1) == {}
    assert list(tmp_path.iterdir()) == []
