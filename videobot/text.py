"""Text a user typed, made safe at the door: before anything stores it, matches it or shows it.

Every front door (the chat adapters, the command line, the web API) passes user text through
`clean_text`: control characters (an escape sequence would clear a terminal or retitle it),
format characters (zero-width spaces, bidirectional overrides, the soft hyphen) and invisible
filler letters are dropped; a NUL is refused rather than dropped, because PostgreSQL cannot
store it and silently joining the words around it would change what was asked. Line breaks
become spaces, or newlines where the field allows several lines. `printable` does the same
for text on its way out to a terminal (rows stored before these rules, names from platforms),
never refusing.
"""

from __future__ import annotations

import unicodedata

NUL = "\x00"
#: Characters that break a line: kept as "\n" where a field allows several lines.
_LINE_BREAKS = frozenset("\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")
#: Letters that draw nothing and are not whitespace: the Hangul fillers and the braille
#: blank, used to make a message that looks empty.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: Control (Cc), format (Cf) and lone surrogate (Cs) characters.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


class UnsafeText(ValueError):
    """The text holds a character that is refused rather than dropped (NUL)."""


def clean_text(text: str, *, multiline: bool = False) -> str:
    """`text` without control, format and invisible characters (tabs and line breaks become
    spaces; with `multiline`, line breaks become newlines). Raises `UnsafeText` on a NUL."""
    if NUL in text:
        raise UnsafeText("it contains a NUL character (\\0)")
    return _without_unsafe(text, multiline)


def printable(text: str) -> str:
    """`text` as a terminal may show it: `clean_text`'s rules with newlines kept, and a NUL
    dropped instead of refused."""
    return _without_unsafe(text, True)


def is_blank(text: str) -> bool:
    """Whether nothing visible is left once the text is cleaned."""
    return not _without_unsafe(text, False).strip()


def _without_unsafe(text: str, multiline: bool) -> str:
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []
    for char in text:
        if char in _LINE_BREAKS:
            kept.append("\n" if multiline else " ")
        elif char == "\t":
            kept.append(" ")
        elif char not in _INVISIBLE_LETTERS and (
                unicodedata.category(char) not in _DROPPED_CATEGORIES):
            kept.append(char)
    return "".join(kept)
