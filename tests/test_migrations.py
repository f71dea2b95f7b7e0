"""Alembic migrations on a real SQLite file: up, down, up again, and in step with the models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations
from storage import migrate
from storage.db import SQLITE_BUSY_TIMEOUT_MS, create_engine
from storage.models import Base

TABLES = {"users", "jobs", "clips", "workers", "charges", "quota_overrides", "bans", "settings",
          "audit_log", "api_keys", "webhook_events", "job_inputs", "previews"}


def head_revision() -> str:
    head = ScriptDirectory(str(Path(migrations.__file__).parent)).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def url(database_url: str) -> str:
    """A fresh, empty database of each kind (SQLite file, PostgreSQL database)."""
    return database_url


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def differences(engine: AsyncEngine) -> list[Any]:
    """What autogenerate would write to bring the database to the models; [] when they agree."""

    def compare(sync: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(sync), Base.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_downgrade_upgrade(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == head_revision()
    assert TABLES <= await table_names(engine)
    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    assert not TABLES & await table_names(engine)
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == head_revision()
    assert TABLES <= await table_names(engine)


async def test_upgrade_twice_is_a_no_op(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == head_revision()


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    assert await differences(engine) == []
    # The comparison is live: with the schema gone it reports every table as missing.
    await migrate.downgrade(engine, "base")
    missing = {diff[1].name for diff in await differences(engine) if diff[0] == "add_table"}
    assert missing == TABLES


async def test_concurrent_upgrades_leave_one_correct_schema(url: str) -> None:
    engines = [create_engine(url) for _ in range(2)]
    try:
        await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
        for engine in engines:
            assert await migrate.current_revision(engine) == head_revision()
        assert await differences(engines[0]) == []
        async with engines[0].connect() as conn:
            versions = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version"))
            assert versions.scalars().all() == [head_revision()]
    finally:
        for engine in engines:
            await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        journal = await conn.exec_driver_sql("PRAGMA journal_mode")
        assert journal.scalar() == "wal"
        timeout = await conn.exec_driver_sql("PRAGMA busy_timeout")
        assert timeout.scalar() == SQLITE_BUSY_TIMEOUT_MS > 0
        foreign_keys = await conn.exec_driver_sql("PRAGMA foreign_keys")
        assert foreign_keys.scalar() == 1


async def test_discord_interaction_tokens_are_dropped_from_stored_jobs(
        engine: AsyncEngine) -> None:
    await migrate.upgrade(engine, "0005")
    target = ('{"application_id": 7, "token": "itoken-secret", "channel_id": 9, '
              '"message_id": 11}')
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO users (platform, platform_user_id, display_name, username, tier, "
            "priority, created_at) VALUES ('discord', '1', '', '', '', 0, CURRENT_TIMESTAMP)")
        for platform in ("discord", "telegram"):
            await conn.exec_driver_sql(
                "INSERT INTO jobs (user_id, platform, status, prompt, negative_prompt, frames, "
                "fps, width, height, steps, guidance, seed, preset, notes, reply_target, "
                "attempts, max_attempts, progress_step, progress_total, cancel_requested, "
                f"created_at) VALUES (1, '{platform}', 'queued', 'a', '', 8, 8, 64, 64, 1, 0, "
                f"1, 'tiny', '[]', '{target}', 0, 3, 0, 1, false, CURRENT_TIMESTAMP)")
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT platform, reply_target FROM jobs ORDER BY id")).all()
    stored = {platform: target if isinstance(target, dict) else json.loads(target)
              for platform, target in rows}
    assert stored["discord"] == {"application_id": 7, "channel_id": 9, "message_id": 11}
    assert stored["telegram"]["token"] == "itoken-secret"  # another platform's keys are its own
