"""Word-level tokenizer: the vocabulary is plain data on the shared ground
(`videobot.demo_vocab`); building it from every caption the data generator can write is the
generator's part."""

from __future__ import annotations

from typing import Self

from generator.backends.demo import captions
from videobot import demo_vocab
from videobot.demo_vocab import (
    HARMLESS,
    MAX_TOKENS,
    PAD,
    SHIPPED_VOCAB,
    UNK,
    shipped_vocab,
    words,
)

__all__ = ["HARMLESS", "MAX_TOKENS", "PAD", "SHIPPED_VOCAB", "UNK", "Vocab", "shipped_vocab",
           "words"]


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


class Vocab(demo_vocab.Vocab):
    """The shared vocabulary type, with the generator's way to build it."""

    @classmethod
    def build(cls) -> Self:
        """The vocabulary of every caption the data generator can write."""
        return cls((PAD, UNK, *sorted(_all_caption_words())))
