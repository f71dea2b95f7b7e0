"""The command line's words before argparse sees them, shared by `videobot` and `python -m
generator`: the global options `--config` and `--data-dir` are taken from anywhere on the line
(before the sub-command, after it, among an admin command's words), and everything after
`admin <name>` is that command's words; and the check of an `--out` file."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videobot.config import DEFAULT_DATA_DIR

#: The options every command takes, by flag, with the attribute each one sets.
GLOBAL_OPTIONS = {"--config": "config", "--data-dir": "data_dir"}


def global_options_parser() -> argparse.ArgumentParser:
    """The parent parser of every command, declaring the global options for `--help` only:
    `take_global_options` takes them off the line, wherever they stand, before argparse."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="TOML config (default: embedded defaults)")
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help=f"data folder (default: ./{DEFAULT_DATA_DIR})")
    return common


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


def global_flags(options: GlobalOptions) -> list[str]:
    """The global options as words to pass on to another command line."""
    flags = []
    for flag, name in GLOBAL_OPTIONS.items():
        path = getattr(options, name)
        if path is not None:
            flags.append(f"{flag}={path}")
    return flags


def check_out(out: Path) -> None:
    """Refuse an `--out` that cannot be written before spending a render on it."""
    for path in (out, out.with_suffix(".jpg")):
        if path.is_dir():
            raise CliError(f"--out {out}: {path} is a folder; name the MP4 to write, "
                           f"e.g. {out / 'clip.mp4'}")
    folder = out.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise CliError(f"--out {out}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise CliError(f"--out {out}: the folder {folder} cannot be written")
