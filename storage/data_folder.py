"""The data folder from the command line's side: the commands that may create it (`run`,
`worker`, `submit`, `generate`, `db upgrade`, admin writes) prepare it; every other command
needs one that exists, so that a typo in `--data-dir` is told, not given an empty folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.db import sqlite_path
from videobot.cli_args import CliError
from videobot.config import Config


def prepare(config: Config) -> None:
    """Create the data folder if needed and check that it can be written."""
    data_dir = config.data_dir
    probe = data_dir / f".write-test-{os.getpid()}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CliError(
            f"the data folder {data_dir} is not writable ({exc.strerror or exc}); "
            "choose another with --data-dir"
        ) from None


def require_existing(config: Config) -> None:
    """Refuse to go on unless the data the command reads exists: the data folder and its
    SQLite file (a PostgreSQL server holds its own data)."""
    database = sqlite_path(config.database_url)
    if database is None or database.is_file():
        return
    if not config.data_dir.is_dir():
        raise CliError(f"no videobot data folder at {config.data_dir}; check --data-dir "
                       "(`videobot run` creates one)")
    raise CliError(f"no videobot database at {database}; check --data-dir and --config "
                   "(`videobot run` or `videobot db upgrade` creates one)")


class Outcome:
    """Whether the command succeeded; set by the command inside `kept_if_succeeded`."""

    succeeded = False


@contextmanager
def kept_if_succeeded(config: Config) -> Iterator[Outcome]:
    """Prepare the data folder for a command that may create it, and remove again what this
    command created (the folder, or a database file in a folder that existed) unless the
    command set `succeeded`: a failed command leaves nothing new behind."""
    new_root = _first_missing(config.data_dir)
    database = sqlite_path(config.database_url)
    new_database = database if database is not None and not database.exists() else None
    prepare(config)
    outcome = Outcome()
    try:
        yield outcome
    finally:
        if not outcome.succeeded:
            _remove(new_root, new_database)


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of `path` that does not exist yet (what mkdir -p would create)."""
    missing = None
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing = folder
    return missing


def _remove(new_root: Path | None, new_database: Path | None) -> None:
    if new_root is not None:
        shutil.rmtree(new_root, ignore_errors=True)
    elif new_database is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{new_database}{suffix}").unlink(missing_ok=True)
