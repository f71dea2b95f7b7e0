"""Shared fixtures: real SQLite files in a temporary folder, never a mock of our database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.connect import close_store, open_store
from storage.store import Store
from tests import postgres
from tests.api_helpers import Api, started_api
from tests.fakes.discord_api import FakeDiscord
from videobot.config import Config, config_from_dict

DATABASES = ["sqlite", "postgresql"]


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server | None]:
    """A PostgreSQL server for the session: VIDEOBOT_TEST_POSTGRES_URL, else a throwaway
    cluster from the installed server binaries, else None (PostgreSQL tests are skipped)."""
    if os.environ.get(postgres.ENV_URL):
        yield postgres.Server(os.environ[postgres.ENV_URL])
    elif postgres.server_binaries() is None:
        yield None
    else:
        with postgres.throwaway_cluster() as server:
            yield server


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       postgres_server: postgres.Server | None) -> AsyncIterator[str]:
    """A fresh, empty database of each kind: a SQLite file, a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'videobot.db'}"
        return
    url = await postgres.create_database(require_postgres(postgres_server).url)
    yield url
    await postgres.drop_database(url)


def require_postgres(server: postgres.Server | None) -> postgres.Server:
    """The server, or skip (fail on CI, where .ci/run installs it)."""
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs it")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    return server


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    # The tiny diffusers preset is the default here: tests render with the fast stand-in
    # backend of tests/backends.py, and the demo model has tests of its own.
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": "tiny",
                             "database": {"url": database_url}})


@pytest.fixture
async def store(config: Config, clock: FakeClock) -> AsyncIterator[Store]:
    job_store = await open_store(config, clock=clock)
    yield job_store
    await close_store(job_store)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random diffusers pipeline, built once for every test that runs processes."""
    from generator.backends.tiny_models import ensure_builtin_model

    return ensure_builtin_model("tiny-text-to-video-sd", tmp_path_factory.mktemp("models"))


@pytest.fixture
async def api(store: Store, config: Config) -> AsyncIterator[Api]:
    """The HTTP API's real server on 127.0.0.1 over `store`, with the module's `config`."""
    async with started_api(store, config) as started:
        yield started


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The local Discord fake (REST and gateway on 127.0.0.1), running."""
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()
