"""The prompt blocklist: words and regular expressions, matched on a normalised prompt so that
case, accents, punctuation and spaced-out letters ("B.a.D", "b a d", "bäd") do not hide a
blocked word."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from videobot.config import ModerationConfig

_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Lower case, accents stripped, punctuation turned into spaces: "B.a.D Ünicorn" ->
    "b a d unicorn"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def letter_runs(normalised: str) -> list[str]:
    """Runs of single letters joined up ("a b a d dog" -> ["abad"]): spelled-out words."""
    runs, letters = [], ""
    for token in [*normalised.split(), ""]:
        if len(token) == 1:
            letters += token
            continue
        if len(letters) > 1:
            runs.append(letters)
        letters = ""
    return runs


@dataclass(frozen=True)
class Blocklist:
    """The configured words and patterns, compiled once."""

    words: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_config(cls, config: ModerationConfig) -> Blocklist:
        words = frozenset(normalise(word) for word in config.words if normalise(word))
        return cls(words, tuple(re.compile(p) for p in config.patterns))

    def match(self, prompt: str) -> str | None:
        """The rule `prompt` breaks (for the admins' record), or None when it may pass."""
        text = normalise(prompt)
        runs = letter_runs(text)
        for word in sorted(self.words):
            if f" {word} " in f" {text} " or any(word.replace(" ", "") in r for r in runs):
                return f"word {word!r}"
        for pattern in self.patterns:
            if pattern.search(text) or any(pattern.search(r) for r in runs):
                return f"pattern {pattern.pattern!r}"
        return None
