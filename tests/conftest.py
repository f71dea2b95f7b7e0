"""Shared fixtures: real SQLite files in a temporary folder, never a mock of our database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.connect import close_store, open_store
from storage.jobs import JobStore
from videobot.config import Config, config_from_dict


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_from_dict({"data_dir": str(tmp_path / "data")})


@pytest.fixture
async def store(config: Config, clock: FakeClock) -> AsyncIterator[JobStore]:
    job_store = await open_store(config, clock=clock)
    yield job_store
    await close_store(job_store)
