"""The base install is the bot alone: `pip install videobot` with no extras, into a fresh
virtual environment, has no torch, refuses the generator's commands in one line, and runs `db
upgrade`, then `run --no-workers` (the console chat from a pipe, on a SQLite file) while a
worker of the full install renders its job: the bot delivers the clip and exits 0; `status`
and `admin` read the result. One slow test (a real pip install, from the pip cache when it holds the
packages); `-m "not base_install"` leaves it out."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT
from videobot.media.frames import read_frames

pytestmark = [pytest.mark.base_install, pytest.mark.timeout(900)]

#: What `pip install <repo>` reads: the project file, its readme and the packages.
SOURCES = ("pyproject.toml", "README.md", "videobot", "bot", "generator", "storage",
           "migrations")


def base_environment() -> dict[str, str]:
    """The environment of a process of the base install: nothing of this checkout's on the
    path, no database url from the caller."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV", "VIDEOBOT_DATABASE_URL"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def install_base(tmp_path: Path) -> Path:
    """A fresh virtual environment with the base package installed from a copy of the
    sources (pip's build would write into the checkout); its `bin` folder."""
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "base"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(source)],
                   check=True, cwd=tmp_path, env=base_environment(), timeout=600)
    return venv / "bin"


def test_the_base_install_runs_the_bot_while_a_full_worker_renders(tmp_path: Path) -> None:
    bin_dir = install_base(tmp_path)
    env = base_environment()
    no_torch = subprocess.run([str(bin_dir / "python"), "-c", "import torch"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, check=False)
    assert no_torch.returncode == 1 and "No module named 'torch'" in no_torch.stderr
    refused = subprocess.run([str(bin_dir / "videobot"), "worker", "--burst"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, check=False)
    assert (refused.returncode, refused.stderr) == (
        2, "videobot: this command needs the worker extra: pip install 'videobot[worker]'\n")

    data = tmp_path / "data"
    upgraded = subprocess.run([str(bin_dir / "videobot"), "--data-dir", str(data), "db",
                               "upgrade"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=False)
    assert upgraded.returncode == 0, upgraded.stderr
    worker_env = base_environment() | {"PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-m", "generator", "--data-dir", str(data),
                               "worker"], cwd=ROOT, env=worker_env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bot = subprocess.run(
            [str(bin_dir / "videobot"), "--data-dir", str(data), "run", "--no-workers"],
            input="/video a red ball moving to the left --seed 3\n", cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300, check=False)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert bot.returncode == 0, bot.stderr
    [clip] = re.findall(r"^Job #1 done: (.+)$", bot.stdout, re.M)
    assert Path(clip) == data / "clips" / "job-1-a1.mp4"
    assert read_frames(Path(clip)).shape == (16, 256, 256, 3)
    for words, shown in ((["status", "1", "--json"], '"status": "succeeded"'),
                         (["admin", "queue"], "")):
        done = subprocess.run([str(bin_dir / "videobot"), "--data-dir", str(data), *words],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0 and shown in done.stdout, done.stderr
