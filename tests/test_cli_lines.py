"""The command line as people type it: `--config` and `--data-dir` anywhere on the line, and
no data folder or database created by a command that only reads or that fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so that a `./videobot-data` made by mistake shows."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIDEOBOT_DATABASE_URL", raising=False)


def test_global_options_after_the_admin_words(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "D"
    code, out, _ = run(capsys, "admin", "quota", "set", "console:alice", "2", "--data-dir",
                       str(data))
    assert (code, out.strip()) == (0, "console:alice now has 2 credits.")
    code, out, _ = run(capsys, "admin", "quota", "show", "console:alice",
                       f"--data-dir={data}")
    assert code == 0 and "2 used of" not in out and "of 2 per 24 h" in out
    assert (data / "videobot.db").is_file()
    assert not (tmp_path / "videobot-data").exists()


@pytest.mark.parametrize("where", ["first", "after the command", "last"])
def test_global_options_anywhere_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    data, config = tmp_path / "D", tmp_path / "c.toml"
    config.write_text('[quotas]\ncredits = 7\n')
    options = ["--config", str(config), "--data-dir", str(data)]

    def line(command: list[str], *rest: str) -> list[str]:
        if where == "first":
            return [*options, *command, *rest]
        if where == "after the command":
            return [*command, *options, *rest]
        return [*command, *rest, *options]

    assert run(capsys, *line(["db", "upgrade"]))[0] == 0
    code, out, err = run(capsys, *line(["submit"], "a red ball", "--frames", "8"))
    assert (code, out.strip()) == (0, "1"), err
    code, out, _ = run(capsys, *line(["status"], "1", "--json"))
    assert code == 0 and json.loads(out)["request"]["frames"] == 8
    code, _, err = run(capsys, *line(["status"], "12345"))
    assert code == 2 and "there is no job #12345" in err
    code, out, _ = run(capsys, *line(["admin", "quota"], "show", "console:local"))
    assert code == 0 and "of 7 per 24 h" in out  # the config was read
    code, out, _ = run(capsys, *line(["admin", "stats"], "--since", "1h"))
    assert code == 0 and "1 queued" in out
    assert not (tmp_path / "videobot-data").exists()


def test_a_global_option_given_twice_or_without_a_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--data-dir", "a", "status", "1", "--data-dir", "b")
    assert code == 2 and "--data-dir is given twice" in err
    code, _, err = run(capsys, "status", "1", "--config")
    assert code == 2 and "--config needs a path after it" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["status", "1"],
    ["status", "1", "--json"],
    ["admin", "queue"],
    ["admin", "workers"],
    ["admin", "stats"],
    ["admin", "audit"],
    ["admin", "quota", "show", "console:bob"],
])
def test_a_read_of_a_missing_data_folder_is_told_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    typo = tmp_path / "videbot-data"
    code, out, err = run(capsys, *command, "--data-dir", str(typo))
    assert code == 2 and out == ""
    assert err.strip() == (f"videobot: no videobot data folder at {typo}; check --data-dir "
                           "(`videobot run` creates one)")
    assert list(tmp_path.iterdir()) == []


def test_a_read_of_a_folder_without_a_database_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "status", "1", "--data-dir", str(tmp_path))
    assert code == 2 and f"no videobot database at {tmp_path / 'videobot.db'}" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("command", "code"), [
    (["admin", "quota", "set", "console:bob", "lots"], 1),
    (["admin", "quota", "set"], 1),
    (["admin", "cancel", "12"], 1),
    (["admin", "ban"], 1),
    (["submit", "a ball", "--frames", "0"], 2),
    (["submit", "a ball", "--user", "bob"], 2),
    (["generate", "a ball", "--out", "x.mp4", "--width", "7"], 2),
])
def test_a_failed_command_leaves_no_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], code: int
) -> None:
    data = tmp_path / "new" / "data"
    assert run(capsys, *command, "--data-dir", str(data))[0] == code
    assert list(tmp_path.iterdir()) == []


def test_a_failed_admin_write_in_an_existing_folder_leaves_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert run(capsys, "admin", "unban", "--data-dir", str(tmp_path))[0] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("command", [
    ["admin", "quota", "default", "5"],
    ["admin", "pause"],
    ["db", "upgrade"],
    ["submit", "a ball"],
])
def test_writes_create_the_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    data = tmp_path / "new" / "data"
    code, _, err = run(capsys, *command, "--data-dir", str(data))
    assert code == 0, err
    assert (data / "videobot.db").is_file()
