"""Helpers for tests that run real videobot processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def videobot(*args: str, data_dir: Path, config: Path | None = None, stdin: str = "",
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `videobot ARGS` to completion and return what it printed."""
    return subprocess.run(
        command(*args, data_dir=data_dir, config=config), input=stdin, text=True,
        capture_output=True, timeout=timeout, cwd=ROOT, env=environment(),
    )


def start(*args: str, data_dir: Path, config: Path | None = None,
          log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `videobot ARGS` in the background; stdout and stderr go to `log`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (log or data_dir / "process.log").open("ab") as out:
        return subprocess.Popen(command(*args, data_dir=data_dir, config=config),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, env=environment())


def command(*args: str, data_dir: Path, config: Path | None) -> list[str]:
    head = [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir)]
    if config is not None:
        head += ["--config", str(config)]
    return [*head, *args]


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VIDEOBOT_DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
