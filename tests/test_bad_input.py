"""Bad input at the door, class by class: each table's every member is refused with a reply
that names the problem and changes nothing (no job, no user, no charge), or is stored cleaned,
on SQLite and on PostgreSQL. docs/reliability.md counts these tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.commands import Core
from storage.db import read_transaction
from storage.jobs import JobStore
from storage.models import Charge, Job, User
from tests.processes import videobot
from videobot.config import Config
from videobot.users import UserRef

ALICE = UserRef("console", "alice")

#: Options given twice: (the command, the option the reply names).
DUPLICATE_OPTIONS = [
    ("/video a ball --seed 1 --seed 2", "--seed"),
    ("/video a ball --frames 8 --frames=9", "--frames"),
    ("/video a ball --negative x --negative y", "--negative"),
    ("/video a ball \u2014steps 2 --steps 3", "--steps"),
    ("/video a ball --Guidance 1 --guidance 2", "--guidance"),
    ("/video a ball --preset tiny --preset tiny", "--preset"),
]


@pytest.fixture
def core(store: JobStore, config: Config) -> Core:
    return Core(store=store, config=config)


async def row_counts(store: JobStore) -> tuple[int, int, int]:
    """(jobs, users, charges): what a refused command must leave as it was."""
    async with read_transaction(store.engine) as conn:
        counts = [await conn.scalar(select(func.count()).select_from(table))
                  for table in (Job, User, Charge)]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def assert_refused(core: Core, store: JobStore, line: str, named: str) -> None:
    before = await row_counts(store)
    reply = await core.handle(ALICE, line)
    assert reply.job is None, (line, reply.text)
    assert reply.text.startswith("Sorry: ") and named in reply.text, (line, reply.text)
    assert await row_counts(store) == before, line


async def test_an_option_given_twice_is_refused_naming_it(core: Core, store: JobStore) -> None:
    for line, option in DUPLICATE_OPTIONS:
        await assert_refused(core, store, line, f"{option} is given more than once")


def test_a_command_line_flag_given_twice_is_refused_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = videobot("submit", "a ball", "--seed", "1", "--seed", "2", data_dir=data)
    assert result.returncode == 2
    assert "--seed is given more than once" in result.stderr
    assert not (data / "videobot.db").exists()
