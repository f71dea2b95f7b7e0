"""The command line's words before argparse sees them: the global options `--config` and
`--data-dir` are taken from anywhere on the line (before the sub-command, after it, among an
admin command's words), and everything after `admin <name>` is that command's words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The options every command takes, by flag, with the attribute each one sets.
GLOBAL_OPTIONS = {"--config": "config", "--data-dir": "data_dir"}


class CliError(Exception):
    """A reason to stop, printed as `videobot: <reason>`."""


@dataclass(frozen=True)
class GlobalOptions:
    """`--config` and `--data-dir`, wherever they stood on the line."""

    config: Path | None = None
    data_dir: Path | None = None


def take_global_options(argv: Sequence[str]) -> tuple[GlobalOptions, list[str]]:
    """The global options and the rest of the line without them. `--` ends the options, as
    usual: a word after it is never taken for one."""
    found: dict[str, Path] = {}
    rest: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--":
            rest += argv[index:]
            break
        flag, has_value, value = word.partition("=")
        if flag not in GLOBAL_OPTIONS:
            rest.append(word)
            index += 1
            continue
        if not has_value:
            if index + 1 >= len(argv):
                raise CliError(f"{flag} needs a path after it")
            value = argv[index + 1]
            index += 1
        if not value:
            raise CliError(f"{flag} needs a path after it")
        if flag in found:
            raise CliError(f"{flag} is given twice; give it once")
        found[flag] = Path(value)
        index += 1
    return GlobalOptions(**{GLOBAL_OPTIONS[f]: path for f, path in found.items()}), rest


def split_admin_words(argv: list[str], admin_commands: Sequence[str]) -> tuple[list[str],
                                                                               list[str]]:
    """`admin <name> WORDS…`: the line up to the name, and the chat command's words (flags
    such as `--since` included), which argparse must not read as its own."""
    words = [index for index, word in enumerate(argv) if not word.startswith("-")]
    if len(words) < 2 or argv[words[0]] != "admin" or argv[words[1]] not in admin_commands:
        return argv, []
    name = words[1]
    return argv[:name + 1], argv[name + 1:]
