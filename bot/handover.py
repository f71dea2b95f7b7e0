"""The generator's commands (`worker`, `generate`, `doctor`, `train-demo`) run in the
generator's own command line, `python -m generator`: `videobot` hands the process over to it
(exec, so the process id, signals and exit status stay the caller's) without importing it, and
says so in one line when the generator's dependencies are not installed."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from videobot.cli_args import CliError, GlobalOptions, global_flags

#: The commands the generator runs, with their one-line help.
GENERATOR_COMMANDS = {
    "worker": "run one generator process",
    "generate": "render one clip with no bot and no queue",
    "doctor": "check torch, the devices, and whether each preset fits",
    "train-demo": "retrain the embedded demo model from scratch (CPU)",
}
#: What the generator needs beyond the bot (the `worker` extra), by import name.
WORKER_MODULES = ("torch", "diffusers", "transformers", "numpy")
NEEDS_WORKER_EXTRA = "this command needs the worker extra: pip install 'videobot[worker]'"


def require_worker_extra() -> None:
    """Refuse, naming the fix, when a module of the worker extra is not installed (found
    without importing it)."""
    if any(importlib.util.find_spec(name) is None for name in WORKER_MODULES):
        raise CliError(NEEDS_WORKER_EXTRA)


def hand_over(options: GlobalOptions, words: Sequence[str]) -> NoReturn:
    """Replace this process with `python -m generator <global options> <words>`."""
    require_worker_extra()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable,
             [sys.executable, "-m", "generator", *global_flags(options), *words])
