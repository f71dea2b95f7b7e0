"""The embedded demo model's vocabulary as plain data (no torch, no numpy): the generator's
demo model tokenizes with it, and the bot reads it to tell users which words of a prompt the
model ignores. Lowercase words, punctuation stripped, unknown words map to `<unk>`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Self

PAD, UNK = "<pad>", "<unk>"
#: The vocabulary shipped beside the demo model's weights (package data of the generator,
#: found by its place beside this package rather than by importing the generator).
SHIPPED_VOCAB = (Path(__file__).resolve().parent.parent / "generator" / "backends" / "demo"
                 / "weights" / "vocab.json")
MAX_TOKENS = 16
_WORD = re.compile(r"[a-z]+")
#: Function words a prompt may contain that carry nothing the model could render; they map
#: to <unk> like any unknown word but are not reported as unknown.
HARMLESS = frozenset({"an", "very", "please", "make", "create", "generate", "me", "some",
                      "with"})


def words(text: str) -> list[str]:
    """The lowercase words of `text`, punctuation and digits dropped."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Vocab:
    """A fixed word list; index 0 is padding, index 1 unknown."""

    tokens: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Self:
        """The vocabulary saved at `path`."""
        return cls(tuple(json.loads(path.read_text())["tokens"]))

    def save(self, path: Path) -> None:
        """Write the vocabulary to `path` as JSON."""
        path.write_text(json.dumps({"tokens": list(self.tokens)}, indent=0) + "\n")

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (at most MAX_TOKENS, at least one; no padding)."""
        index = {t: i for i, t in enumerate(self.tokens)}
        ids = [index.get(w, 1) for w in words(text)][:MAX_TOKENS]
        return ids or [1]

    def unknown(self, text: str) -> list[str]:
        """The words of `text` this vocabulary does not know, in order, without repeats
        (harmless function words such as "an" are not reported)."""
        known = self._known
        return list(dict.fromkeys(w for w in words(text) if w not in known))

    @cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(self.tokens) | HARMLESS


@lru_cache(maxsize=1)
def shipped_vocab() -> Vocab:
    """The shipped demo model's vocabulary."""
    return Vocab.load(SHIPPED_VOCAB)
