"""Bad input at the door, class by class: each table's every member is refused with a reply
that names the problem and changes nothing (no job, no user, no charge), or is stored cleaned,
on SQLite and on PostgreSQL. docs/reliability.md counts these tables."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.console import ConsoleAdapter
from bot.core.commands import Core
from bot.core.parsing import VideoOptions
from storage.connect import close_store, open_store
from storage.db import read_transaction
from storage.models import Charge, Job, User
from storage.store import Store
from tests.processes import videobot
from videobot.config import Config, load_config
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
SHELL = UserRef("shell", "root")

#: Options given twice: (the command, the option the reply names).
DUPLICATE_OPTIONS = [
    ("/video a ball --seed 1 --seed 2", "--seed"),
    ("/video a ball --frames 8 --frames=9", "--frames"),
    ("/video a ball --negative x --negative y", "--negative"),
    ("/video a ball \u2014steps 2 --steps 3", "--steps"),
    ("/video a ball --Guidance 1 --guidance 2", "--guidance"),
    ("/video a ball --preset tiny --preset tiny", "--preset"),
]


#: Control, format and invisible characters: (the command, the prompt and negative prompt
#: stored). Each reached the database (and then terminals and chats) as typed.
CLEANED_AT_THE_DOOR = [
    ("/video a red ball \x1b[2J\x1b]0;owned\x07", "a red ball [2J]0;owned", ""),
    ("/video a red\u200bball", "a redball", ""),
    ("/video a \u202eball\u202c", "a ball", ""),
    ("/video a\u00adball", "aball", ""),
    ("/video a ball\x9b2J", "a ball2J", ""),
    ("/video tab\tseparated\x7f", "tab separated", ""),
    ("/video one\u2028two\rthree", "one two three", ""),
    ("/video a \ud800ball\ufeff", "a ball", ""),
    ("/video a ball\u3164\u2800", "a ball", ""),
    ('/video a ball --negative "blur\x1b[31m\u2066"', "a ball", "blur[31m"),
]

#: Text with nothing visible left, or with a NUL: (the command, what the reply says).
REFUSED_TEXT = [
    ("/video red\x00ball", "the message contains a NUL character"),
    ("/video \u200b\u200b", "the prompt is empty"),
    ("/video \x01\x02", "the prompt is empty"),
    ("/video \u3164\u2800\u115f", "the prompt is empty"),
    ("/video \u202e\u2066 \x1b", "the prompt is empty"),
    ("/admin ban console:bob sp\x00am", "the message contains a NUL character"),
    ("/admin ban console:bob " + "x" * 201, "the reason is 201 characters long; the limit "
     "is 200"),
]

#: The same through a door that passes options already typed (Discord, the web API, the CLI).
TYPED_REFUSALS = [
    (VideoOptions("red\x00ball"), "the prompt contains a NUL character"),
    (VideoOptions("a", {"negative_prompt": "\x00"}), "the negative prompt contains a NUL"),
    (VideoOptions("\u200b\u2060\u3164"), "the prompt is empty"),
]


@pytest.fixture
def core(store: Store, config: Config) -> Core:
    return Core(store=store, config=config)


async def row_counts(store: Store) -> tuple[int, int, int]:
    """(jobs, users, charges): what a refused command must leave as it was."""
    async with read_transaction(store.engine) as conn:
        counts = [await conn.scalar(select(func.count()).select_from(table))
                  for table in (Job, User, Charge)]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def assert_refused(core: Core, store: Store, line: str, named: str) -> None:
    """`line` (an admin's when it is `/admin …`) is refused naming `named`; nothing changed."""
    before = await row_counts(store)
    reply = await core.handle(SHELL if line.startswith("/admin") else ALICE, line)
    assert reply.job is None, (line, reply.text)
    assert reply.text.startswith("Sorry: ") and named in reply.text, (line, reply.text)
    assert await row_counts(store) == before, line


async def test_an_option_given_twice_is_refused_naming_it(core: Core, store: Store) -> None:
    for line, option in DUPLICATE_OPTIONS:
        await assert_refused(core, store, line, f"{option} is given more than once")


def test_a_command_line_flag_given_twice_is_refused_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = videobot("submit", "a ball", "--seed", "1", "--seed", "2", data_dir=data)
    assert result.returncode == 2
    assert "--seed is given more than once" in result.stderr
    assert not (data / "videobot.db").exists()


async def test_control_and_format_characters_are_dropped_before_storing(
        core: Core, store: Store) -> None:
    for line, prompt, negative in CLEANED_AT_THE_DOOR:
        reply = await core.handle(ALICE, line)
        assert reply.job is not None, (line, reply.text)
        stored = (await store.jobs.require(reply.job.id)).request
        assert (stored.prompt, stored.negative_prompt) == (prompt, negative), line
        assert f"Prompt: {prompt}\n" in reply.text
        await store.cancels.request(reply.job.id, None)


async def test_text_with_a_nul_or_nothing_visible_is_refused_and_charged_nothing(
        core: Core, store: Store) -> None:
    for line, named in REFUSED_TEXT:
        await assert_refused(core, store, line, named)
    for options, named in TYPED_REFUSALS:
        typed = await core.video_request(ALICE, options)
        assert typed.job is None and named in typed.text, (options, typed.text)
    assert await row_counts(store) == (0, 0, 0)


async def test_names_from_the_platform_are_stored_printable_and_cut_to_fit(
        core: Core, store: Store) -> None:
    eve = UserRef("telegram", "42", "Eve\u202e\x1b[2J\x00" + "e" * 400, "eve\u200b")
    reply = await core.handle(eve, "/video a ball")
    assert reply.job is not None, reply.text
    async with read_transaction(store.engine) as conn:
        name, username = (await conn.execute(select(User.display_name, User.username))).one()
    assert name == ("Eve[2J" + "e" * 400)[:256] and username == "eve"


async def test_a_ban_reason_is_stored_cleaned(core: Core, store: Store) -> None:
    reply = await core.handle(SHELL, "/admin ban console:bob spam\x1b[2J\u202e")
    assert reply.text.startswith("console:bob is banned"), reply.text
    refused = await core.handle(UserRef("console", "bob"), "/video a ball")
    assert refused.text == "Sorry: an admin has banned you from this bot (spam[2J)."


def test_the_shell_prints_no_escape_sequence_even_from_an_old_row(tmp_path: Path) -> None:
    data = tmp_path / "data"
    typed = videobot("submit", "a red ball \x1b[2J\x1b]0;owned\x07", data_dir=data)
    assert typed.returncode == 0, typed.stderr
    job_id = asyncio.run(_queue_unchecked(data, "a blue ball \x1b[2J\x1b]0;owned\x07"))
    for args in (("admin", "queue"), ("status", typed.stdout.strip()), ("status", str(job_id))):
        shown = videobot(*args, data_dir=data)
        assert shown.returncode == 0, shown.stderr
        assert "ball [2J]0;owned" in shown.stdout, args
        assert not any(c in shown.stdout for c in "\x1b\x07\x00"), args
    refused = videobot("submit", "a ball", "--user", "console:\x1b[2Jeve", data_dir=data)
    assert refused.returncode == 2 and "is not a user" in refused.stderr
    assert "\x1b" not in refused.stderr


async def _queue_unchecked(data: Path, prompt: str) -> int:
    """A job written straight to the store, as rows were before the door cleaned text."""
    config = load_config(None, data_dir=data)
    store = await open_store(config)
    try:
        request = RenderRequest(prompt=prompt, negative_prompt="", frames=8, fps=8, width=64,
                                height=64, steps=1, guidance=0.0, seed=1, preset="demo")
        job = await store.submissions.enqueue(UserRef("console", "local"), request,
                                              max_queued_per_user=9)
    finally:
        await close_store(store)
    return job.id


async def test_the_console_prints_no_escape_sequence_from_a_stored_prompt(
        store: Store, config: Config) -> None:
    printed: list[str] = []
    console = ConsoleAdapter(core=Core(store=store, config=config), store=store,
                             user_name="local", write=printed.append)
    request = RenderRequest(prompt="a ball \x1b[2J\x1b]0;owned\x07\u202e", negative_prompt="",
                            frames=8, fps=8, width=64, height=64, steps=1, guidance=0.0, seed=1,
                            preset="tiny")
    job = await store.submissions.enqueue(UserRef("console", "local"), request,
                                          max_queued_per_user=9)
    await store.cancels.request(job.id, None)
    await console.deliver(await store.jobs.require(job.id))
    await console.show_progress(job, f"Job #{job.id}: {request.prompt}")
    assert printed == [f"Job #{job.id} was cancelled.", f"Job #{job.id}: a ball [2J]0;owned"]
