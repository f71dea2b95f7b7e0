"""Loading shipped weights: the generator with its vocabulary, and the captioner."""

from __future__ import annotations

from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file

from generator.backends.demo.model import Generator, ModelConfig
from generator.backends.demo.vocab import Vocab

#: Where the committed weights live.
WEIGHTS_DIR = Path(__file__).parent / "weights"


def load_generator(folder: Path = WEIGHTS_DIR) -> tuple[Generator, Vocab]:
    """The generator in eval mode and the vocabulary it was trained with."""
    path = folder / "generator.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
    gen = Generator(ModelConfig.from_metadata(meta))
    gen.load_state_dict(load_file(str(path)))
    return gen.eval(), Vocab.load(folder / "vocab.json")
