"""Admin commands: the same words in the console, Telegram and the shell; checked on the
server side; every action in the audit log — on real SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.console import ConsoleAdapter
from bot.cli import main
from bot.core import replies
from bot.core.admin import target_user
from bot.core.commands import Core
from bot.core.errors import CommandError
from storage.admin import AdminStore
from storage.db import read_transaction
from storage.models import AuditEntry, Ban, QuotaOverride, Setting
from storage.store import Store
from tests.conftest import FakeClock
from tests.quota_helpers import refunded, roomy_config
from videobot.config import Config
from videobot.users import UserRef

BOSS = UserRef("console", "boss")
BOB = UserRef("console", "bob")
MALLORY = UserRef("console", "mallory")
ADMIN_LINES = [
    "/admin quota show console:bob", "/admin quota set console:bob 50 --window 12h",
    "/admin quota reset console:bob", "/admin quota default 5", "/admin ban console:bob",
    "/admin unban console:bob", "/admin queue", "/admin cancel 1", "/admin pause",
    "/admin resume", "/admin stats --since 1h", "/admin audit", "/admin",
]


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return roomy_config(tmp_path, database_url, console={"admins": ["boss"]},
                        telegram={"token": "t", "admins": [7]})


@pytest.fixture
def core(store: Store, config: Config) -> Core:
    return Core(store=store, config=config)


async def admin_rows(store: Store) -> tuple[int, ...]:
    """Rows of every table an admin command writes: none may change on a refusal."""
    async with read_transaction(store.engine) as conn:
        return tuple([
            await conn.scalar(select(func.count()).select_from(table)) or 0
            for table in (AuditEntry, Ban, QuotaOverride, Setting)
        ])


async def test_every_admin_command_by_a_non_admin_is_refused(core: Core,
                                                             store: Store) -> None:
    job = (await core.handle(BOB, "/video a red ball")).job
    assert job is not None
    before = await admin_rows(store)
    for user in (MALLORY, UserRef("telegram", "8"), UserRef("discord", "7")):
        for line in ADMIN_LINES:
            assert (await core.handle(user, line)).text == replies.ADMIN_ONLY, line
    assert await admin_rows(store) == before
    assert (await store.jobs.require(job.id)).status == "queued"


async def test_ban_cancels_and_refunds_and_unban_lets_back_in(core: Core,
                                                              store: Store) -> None:
    jobs = [(await core.handle(BOB, f"/video ball {i}")).job for i in range(2)]
    assert all(jobs)
    reply = await core.handle(BOSS, "/admin ban console:bob spamming")
    assert reply.text == "console:bob is banned; 2 waiting jobs cancelled and refunded."
    for job in jobs:
        assert job is not None
        assert (await store.jobs.require(job.id)).status == "cancelled"
        assert await refunded(store, job.id)
    assert (await store.submissions.quota(BOB)).used == 0
    refusal = await core.handle(BOB, "/video another ball")
    assert refusal.job is None
    assert refusal.text == "Sorry: an admin has banned you from this bot (spamming)."
    assert (await core.handle(BOSS, "/admin unban console:bob")).text == (
        "console:bob is no longer banned.")
    assert (await core.handle(BOB, "/video another ball")).job is not None


async def test_numeric_ids_name_users_on_the_admins_platform(core: Core,
                                                             store: Store) -> None:
    admin = UserRef("telegram", "7")
    reply = await core.handle(admin, "/admin quota set 42 3")
    assert reply.text == "telegram:42 now has 3 credits."
    assert (await store.submissions.quota(UserRef("telegram", "42"))).credits == 3
    assert (await core.handle(admin, "/admin ban bob")).text.startswith("Sorry: 'bob' is not")


def test_users_are_named_as_in_chat() -> None:
    assert target_user("<@!99>", UserRef("discord", "1")) == UserRef("discord", "99")
    assert target_user("telegram:5", UserRef("console", "boss")) == UserRef("telegram", "5")
    with pytest.raises(CommandError):
        target_user("42", UserRef("shell", "root"))  # the shell has no platform of its own


async def test_audit_rows_record_who_what_and_on_whom(core: Core, store: Store) -> None:
    await core.handle(BOSS, "/admin quota set console:bob 50 --window 12h")
    await core.handle(BOSS, "/admin pause")
    await AdminStore(store.context).set_default_quota("shell:root", 7)
    entries = await AdminStore(store.context).audit()
    assert [(e.actor, e.action, e.target, e.detail) for e in entries] == [
        ("shell:root", "quota default", "", "7 credits"),
        ("console:boss", "pause", "", ""),
        ("console:boss", "quota set", "console:bob", "50 credits per 12 h"),
    ]
    assert entries[0].at == store.clock()
    assert (await store.submissions.quota(BOB)).credits == 50
    assert (await store.submissions.quota(MALLORY)).credits == 7


async def test_the_admin_flow_typed_in_the_console(store: Store, config: Config) -> None:
    core = Core(store=store, config=config)
    job = (await core.handle(BOB, "/video a red ball")).job
    assert job is not None
    typed = [
        "/admin quota set console:bob 2", "/admin quota show console:bob",
        "/admin queue", "/admin pause", "/admin resume", f"/admin cancel {job.id}",
        "/admin ban console:bob spamming", "/admin stats --since 1h", "/admin audit",
    ]
    said: list[str] = []
    console = ConsoleAdapter(core=core, store=store, user_name="boss",
                             stdin=io.StringIO("\n".join(typed) + "\n"), write=said.append)
    await console.run()
    assert said[0] == "console:bob now has 2 credits."
    assert said[1] == ("console:bob has 1 credit left: 1 used of 2 per 24 h.\n"
                       "Credits come back from 2026-01-02 12:00 UTC.")
    assert said[2] == (f"1 job waiting or rendering:\n  job #{job.id} queued for console:bob: "
                       "a red ball")
    assert said[3:6] == [replies.QUEUE_PAUSED, replies.QUEUE_RESUMED,
                         f"Job #{job.id} cancelled; 1 credit refunded."]
    assert said[6] == "console:bob is banned; 0 waiting jobs cancelled and refunded."
    assert said[7].startswith("Last 1 h: 1 cancelled.\nCredits used: 0;")
    assert said[8].splitlines()[1:] == [
        f"  2026-01-01 12:00 UTC console:boss: {action}" for action in (
            "ban console:bob (spamming)", f"cancel console:bob (job #{job.id})", "resume",
            "pause", "quota set console:bob (2 credits)")
    ]


def test_the_shell_uses_the_same_words(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "admin", "quota", "set", "console:bob", "9", "--window", "2h"]) == 0
    assert main([*data, "admin", "quota", "show", "console:bob"]) == 0
    assert main([*data, "admin", "ban"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["console:bob now has 9 credits per 2 h.",
                       "console:bob has 9 credits left: 0 used of 9 per 2 h."]
    assert out[2] == "Sorry: write /admin ban <user> [reason]."


async def test_admin_workers_lists_the_registry_and_is_refused_to_others(
    store: Store, config: Config, clock: FakeClock
) -> None:
    from storage.workers import WorkerRegistry

    await WorkerRegistry(store.engine, clock=store.clock).register(
        worker_id="gpu1:7:cuda:0", host="gpu1", pid=7, device="cuda:0", presets=["wan"],
        version="0.1.0")
    admin_config = dataclasses.replace(
        config, console=dataclasses.replace(config.console, admins=("boss",)))
    core = Core(store=store, config=admin_config)
    listing = await core.handle(UserRef("console", "boss"), "/admin workers")
    assert listing.text.splitlines() == [
        "1 worker:",
        "  gpu1 cuda:0 (pid 7, v0.1.0): starting; last heartbeat 0 s ago; presets wan"]
    refused = await core.handle(UserRef("console", "mallory"), "/admin workers")
    assert "gpu1" not in refused.text
    # Silent for longer than a lease: lost, whatever it said last; pruned a day later.
    clock.advance(1000)
    listing = await core.handle(UserRef("console", "boss"), "/admin workers")
    assert listing.text.splitlines()[1] == (
        "  gpu1 cuda:0 (pid 7, v0.1.0): lost (no heartbeat for 1000 s: killed, or cut off "
        "from the database); presets wan")


@pytest.mark.parametrize(("words", "expected"), [
    ("ban spamming", "ban telegram:7 spamming"),
    ("ban", "ban telegram:7"),
    ("ban @someone else", "ban @someone else"),
    ("ban telegram:9 flood", "ban telegram:9 flood"),
    ("unban", "unban telegram:7"),
    ("unban 9", "unban 9"),
    ("quota show", "quota show telegram:7"),
    ("quota reset", "quota reset telegram:7"),
    ("quota set 50", "quota set telegram:7 50"),
    ("quota set 50 --window 7d", "quota set telegram:7 50 --window 7d"),
    ("quota set 9 50", "quota set 9 50"),
    ("quota default 30", "quota default 30"),
])
def test_a_reply_names_the_user_an_admin_command_leaves_out(words: str, expected: str) -> None:
    from bot.core.admin import _NAMES_A_USER, _with_replied_user

    name, *rest = words.split()
    if name in _NAMES_A_USER:
        rest = _with_replied_user(name, rest, UserRef("telegram", "7"))
    assert " ".join([name, *rest]) == expected
