"""The docs agree with the code and with each other: the command menus they show are the
registered commands, and each figure about a model has one home (the README), not copies that
drift apart in config.example.toml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.commands import USER_COMMANDS

ROOT = Path(__file__).resolve().parent.parent


def menu_in(path: Path, marker: str) -> list[str]:
    """The commands a doc's line starting with `marker` names, in order (`/name` in backticks,
    options after the name allowed: `/status [job]`)."""
    text = (ROOT / path).read_text()
    lines = [line for line in text.splitlines() if line.startswith(marker)]
    assert len(lines) == 1, f"{path}: one line must start with {marker!r}"
    return re.findall(r"`/([a-z_]+)[^`]*`", lines[0])


@pytest.mark.parametrize(("path", "marker", "extra"), [
    ("docs/telegram.md", "The command menu registered at start:", []),
    ("docs/discord.md", "The slash commands:", ["videoadmin"]),
    ("README.md", "| console chat (`videobot run`) |", ["admin", "quit", "exit"]),
])
def test_the_docs_menus_name_the_registered_commands(path: str, marker: str,
                                                      extra: list[str]) -> None:
    assert menu_in(Path(path), marker) == [*USER_COMMANDS, *extra]


def test_config_example_states_no_memory_or_speed_figures() -> None:
    """The README's "Real models on a GPU" holds them; a copy in the example file drifted
    (HunyuanVideo: "~60 GB" there, "~43 GiB" in the README, with different advice)."""
    text = (ROOT / "config.example.toml").read_text()
    figures = re.findall(r"\d\s*(?:GB|GiB)\b|\d(?:\.\d+)?x faster|\d+ s on an? ", text)
    assert figures == []
    assert "README's\n# \"Real models on a GPU\"" in text


def test_the_readme_memory_table_has_one_row_per_shipped_preset() -> None:
    example = (ROOT / "config.example.toml").read_text()
    shipped = re.findall(r"^# \[presets\.([a-z0-9]+)\]$", example, re.M)
    readme = (ROOT / "README.md").read_text()
    table = re.findall(r"^\| `([a-z0-9]+)` \(~(\d+) GiB", readme, re.M)
    rows = dict(table)
    assert len(rows) == len(table)  # one figure per preset
    # AnimateDiff's size depends on the checkpoint chosen: doctor cannot know it.
    assert set(shipped) - {"animatediff"} == set(rows)
