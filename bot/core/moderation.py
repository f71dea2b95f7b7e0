"""The prompt blocklist: words and regular expressions, matched on a normalised prompt so that
case, accents, look-alike letters, invisible characters, punctuation inside a word and
spaced-out letters ("B.a.D", "b a d", "bäd", "bad" with a Cyrillic a or a zero-width space
inside, "bad-word") do not hide a blocked word.

`normal_forms` is the one normalisation: the configured words and every prompt go through it,
so a rule and a prompt are always compared in the same form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from videobot.config import ModerationConfig
from videobot.text import printable

_NOT_WORD = re.compile(r"[\W_]+")
#: Punctuation between two letters or digits ("bad-word", "bad.word", "bad_word").
_INSIDE_A_WORD = re.compile(r"(?<=[^\W_])(?:[^\w\s]|_)+(?=[^\W_])")
#: Letters that look like Latin ones, after NFKC and case folding: Cyrillic, Greek, and a
#: few Latin variants NFKC keeps apart.
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁԛԝһӏьвкмнт"  # Cyrillic
    "αβεηικνορτυχγω"  # Greek
    "ıȷɑɡɩʟ",  # Latin variants
    "aeopcyxijsdqwhlbbkmht"
    "abenikvoptuxyw"
    "ijagil",
)
#: Digits and signs written for letters ("b4dw0rd"), for whole-word matches only: patterns
#: see digits as digits.
_LEET = str.maketrans("013457@$", "oieastas")


@dataclass(frozen=True)
class NormalForms:
    """A text as the blocklist compares it. `spaced`: punctuation turned into spaces;
    `joined`: punctuation inside a word removed; `leet`: `joined` with digits read as
    letters; `runs`: runs of single letters joined up ("a b a d dog" -> ["abad"])."""

    spaced: str
    joined: str
    leet: str
    runs: tuple[str, ...]


def normal_forms(text: str) -> NormalForms:
    """Every form of `text` the blocklist matches (see `NormalForms`)."""
    folded = _fold(text)
    spaced = _words(folded)
    joined = _words(_INSIDE_A_WORD.sub("", folded))
    leet = _words(_INSIDE_A_WORD.sub("", folded.translate(_LEET)))
    return NormalForms(spaced, joined, leet, tuple(letter_runs(spaced)))


def normalise(text: str) -> str:
    """Lower case, accents and invisible characters dropped, look-alike letters read as
    Latin, punctuation turned into spaces: "B.a.D Ünicorn" -> "b a d unicorn"."""
    return normal_forms(text).spaced


def _fold(text: str) -> str:
    """NFKC (fullwidth and styled letters), case folding, marks (accents, combining
    overlays, variation selectors) and control and format characters dropped, look-alike
    letters mapped."""
    folded = unicodedata.normalize("NFKC", printable(text)).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    plain = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return unicodedata.normalize("NFC", plain).translate(_LOOK_ALIKES)


def _words(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text).split())


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
    """The configured words (each in its spaced and joined forms) and patterns, compiled
    once."""

    words: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def from_config(cls, config: ModerationConfig) -> Blocklist:
        forms = [normal_forms(word) for word in config.words]
        words = frozenset(w for f in forms for w in (f.spaced, f.joined) if w)
        return cls(words, tuple(re.compile(p) for p in config.patterns))

    def match(self, prompt: str) -> str | None:
        """The rule `prompt` breaks (for the admins' record), or None when it may pass."""
        if not self.words and not self.patterns:  # nothing to break: skip the normalising
            return None
        forms = normal_forms(prompt)
        texts = [f" {text} " for text in (forms.spaced, forms.joined, forms.leet)]
        for word in sorted(self.words):
            if any(f" {word} " in text for text in texts) or any(
                    word.replace(" ", "") in run for run in forms.runs):
                return f"word {word!r}"
        for pattern in self.patterns:
            if any(pattern.search(text) for text in (forms.spaced, forms.joined, *forms.runs)):
                return f"pattern {pattern.pattern!r}"
        return None
