"""Word-level tokenizer: lowercase, punctuation stripped, unknown words map to `<unk>`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from generator.backends.demo import captions

PAD, UNK = "<pad>", "<unk>"
#: The vocabulary shipped beside the weights.
SHIPPED_VOCAB = Path(__file__).resolve().parent / "weights" / "vocab.json"
MAX_TOKENS = 16
_WORD = re.compile(r"[a-z]+")
#: Function words a prompt may contain that carry nothing the model could render; they map
#: to <unk> like any unknown word but are not reported as unknown.
HARMLESS = frozenset({"an", "very", "please", "make", "create", "generate", "me", "some",
                      "with"})


def words(text: str) -> list[str]:
    """The lowercase words of `text`, punctuation and digits dropped."""
    return _WORD.findall(text.lower())


def _all_caption_words() -> set[str]:
    pieces: list[str] = []
    for table in (captions.SHAPE_WORDS, captions.COLOUR_WORDS, captions.MOTION_PHRASES):
        for options in table.values():
            pieces.extend(options)
    pieces.extend(captions.FILLERS_BEFORE + captions.FILLERS_AFTER)
    pieces.extend(captions.ADJECTIVES + captions.DETERMINERS)
    pieces.extend(["that is and colour"])
    pieces.extend(form.format(phrase="") for form in captions.MOTION_ONLY_FORMS)
    return {w for piece in pieces for w in words(piece)}


@dataclass(frozen=True)
class Vocab:
    """A fixed word list; index 0 is padding, index 1 unknown."""

    tokens: tuple[str, ...]

    @classmethod
    def build(cls) -> Vocab:
        """The vocabulary of every caption the data generator can write."""
        return cls((PAD, UNK, *sorted(_all_caption_words())))

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls(tuple(json.loads(path.read_text())["tokens"]))

    def save(self, path: Path) -> None:
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
    """The shipped model's vocabulary (built from the caption tables if the file is missing).
    Plain data: the bot process reads it to tell users which words the model ignores."""
    return Vocab.load(SHIPPED_VOCAB) if SHIPPED_VOCAB.exists() else Vocab.build()
