"""What the bot reads from the shared ground works without the generator: the demo model's
vocabulary (the "ignored words" note), the clip type and the upload fitting."""

from __future__ import annotations

import subprocess
import sys

from generator.backends.demo.vocab import Vocab
from videobot.demo_vocab import shipped_vocab

_NO_GENERATOR = """
import sys
from bot.core import requests
notes = requests._demo_notes("a purple cat playing the piano")
assert notes and "cat" in notes[0], notes
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"generator", "torch", "numpy"})
assert not loaded, loaded
"""


def test_the_bot_reads_the_demo_vocabulary_without_importing_the_generator() -> None:
    done = subprocess.run([sys.executable, "-c", _NO_GENERATOR], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_shipped_vocabulary_is_the_one_the_generator_builds() -> None:
    assert set(shipped_vocab().tokens) == set(Vocab.build().tokens)


_IMPORT_ALL_OF_THE_BOT = """
import importlib, pkgutil, sys
import bot
for module in pkgutil.walk_packages(bot.__path__, "bot."):
    importlib.import_module(module.name)
heavy = {"generator", "torch", "diffusers", "transformers", "numpy"}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
assert not loaded, loaded
"""


def test_no_module_of_the_bot_imports_the_generator_torch_or_numpy() -> None:
    done = subprocess.run([sys.executable, "-c", _IMPORT_ALL_OF_THE_BOT], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
