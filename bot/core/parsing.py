"""Turn the text of a chat command into a command name and typed options."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.core import replies
from bot.core.errors import CommandError

# Phones turn "--" into an em or en dash; accept those as the flag prefix too.
_DASHES = re.compile(r"^(?:--|\u2014|\u2013)(?=[a-z])")
# A token is a double-quoted string (straight or curly quotes) or a run of non-spaces.
_TOKENS = re.compile(r'"([^"]*)"|\u201c([^\u201d]*)\u201d|(\S+)')


#: The `--image` option's field: a path on the bot's computer, not part of the request.
IMAGE_PATH = "image_path"


@dataclass(frozen=True)
class Option:
    """A `--name value` flag: the request field it sets and how to read its value."""

    field: str
    kind: type
    words: str


VIDEO_OPTIONS: dict[str, Option] = {
    "frames": Option("frames", int, "a whole number"),
    "fps": Option("fps", int, "a whole number"),
    "width": Option("width", int, "a whole number"),
    "height": Option("height", int, "a whole number"),
    "steps": Option("steps", int, "a whole number"),
    "seed": Option("seed", int, "a whole number"),
    "guidance": Option("guidance", float, "a number"),
    "negative": Option("negative_prompt", str, "some text"),
    "preset": Option("preset", str, "a preset name"),
    # Not a request field: the picture to animate, read only by the console and the shell.
    "image": Option(IMAGE_PATH, str, "a file path"),
}


@dataclass(frozen=True)
class Command:
    """`/name@bot args`: the name in lower case, the bot it was addressed to, the rest."""

    name: str
    args: str
    addressee: str = ""


@dataclass(frozen=True)
class VideoOptions:
    """A `/video` request as typed: the prompt, the options the user set, and `--image PATH`
    (a picture on the bot's computer: only the console and the shell may read it)."""

    prompt: str
    overrides: dict[str, Any] = field(default_factory=dict)
    image_path: str = ""


def parse_command(text: str) -> Command | None:
    """`None` when `text` is not a slash command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, args = stripped[1:].partition(" ")
    name, _, addressee = head.partition("@")
    return Command(name.lower(), args.strip(), addressee)


def parse_video_options(args: str) -> VideoOptions:
    """Split `a red ball --frames 16 --seed 7` into the prompt and typed options."""
    words: list[str] = []
    overrides: dict[str, Any] = {}
    given: set[str] = set()
    tokens = [next(g for g in m.groups() if g is not None) for m in _TOKENS.finditer(args)]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        flag = _DASHES.sub("--", token)
        if not flag.startswith("--") or len(flag) == 2:
            words.append(token)
            index += 1
            continue
        name, has_value, value = flag[2:].partition("=")
        option = VIDEO_OPTIONS.get(name.lower())
        if option is None:
            raise CommandError(
                f"unknown option --{name}; the options are "
                + ", ".join(f"--{n}" for n in VIDEO_OPTIONS)
            )
        if option.field in given:  # the last one silently winning would surprise
            raise CommandError(replies.option_given_twice(name.lower()))
        given.add(option.field)
        if not has_value:
            if index + 1 >= len(tokens):
                raise CommandError(f"--{name} needs {option.words} after it")
            value = tokens[index + 1]
            index += 1
        overrides[option.field] = _convert(name, option, value)
        index += 1
    image_path = overrides.pop(IMAGE_PATH, "")
    return VideoOptions(" ".join(words), overrides, image_path)


def _convert(name: str, option: Option, value: str) -> Any:
    if option.kind is str:
        return value
    try:
        return option.kind(value)
    except ValueError:
        raise CommandError(f"--{name} needs {option.words}, not {value!r}") from None
