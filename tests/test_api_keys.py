"""API keys: made in the shell (`videobot admin apikey`), by a user in a private chat
(`/apikey` on the console, Telegram and Discord) or by an admin (`/admin apikey`); shown once,
stored only as a hash, acting as that chat identity over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import io
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core import replies
from bot.core.commands import Core
from storage.api_keys import ApiKeys
from storage.connect import close_store, open_store
from storage.records import ApiOrigin
from storage.store import Store
from tests.api_helpers import api_config, started_api
from tests.fakes.discord_api import ADMIN_ROLE_ID, FakeDiscord, FakeUser
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import videobot
from tests.test_discord import ack, make_config, running_bot
from tests.test_telegram import started_bot
from videobot.api_config import ApiConfig
from videobot.config import Config, config_from_dict
from videobot.params import RenderRequest
from videobot.users import UserRef

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return api_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'videobot.db'}")


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_the_shell_prints_the_key_last_and_stores_only_its_hash(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config_file = tmp_path / "config.toml"
    config_file.write_text('[api]\nlisten = "127.0.0.1:8080"\npublic_url = "https://v.example"\n')
    made = videobot("admin", "apikey", "create", "console:bob", "--name", "ci", "--admin",
                    data_dir=data, config=config_file)
    assert made.returncode == 0, made.stderr
    key = last_line(made.stdout)
    assert key.startswith("vb-") and len(key) > 40
    assert "API key #1 for console:bob (ci), admin." in made.stdout
    assert "base_url https://v.example/v1" in made.stdout

    with sqlite3.connect(data / "videobot.db") as db:
        rows = db.execute("SELECT * FROM api_keys").fetchall()
        audit = db.execute("SELECT * FROM audit_log").fetchall()
        (key_hash,) = db.execute("SELECT key_hash FROM api_keys").fetchone()
    assert key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(rows) and key[3:] not in repr(rows)  # the prefix only, and the hash
    assert key not in repr(audit) and "apikey create" in repr(audit)

    listed = videobot("admin", "apikey", "list", data_dir=data)
    assert "#1 vb-" in listed.stdout and "console:bob 'ci', admin" in listed.stdout
    assert key not in listed.stdout
    revoked = videobot("admin", "apikey", "revoke", "1", data_dir=data)
    assert "API key #1" in revoked.stdout and "revoked" in revoked.stdout
    secret = videobot("admin", "apikey", "secret", data_dir=data)
    assert last_line(secret.stdout).startswith("whsec_")
    assert key not in "".join(p.read_text() for p in data.rglob("*.log"))


async def test_the_console_user_gets_a_key_that_acts_as_them_and_replaces_the_last(
        config: Config, store: Store) -> None:
    written: list[str] = []
    console = ConsoleAdapter(core=Core(store=store, config=config), store=store,
                             user_name="alice", stdin=io.StringIO("/apikey\n/apikey\n"),
                             write=written.append)
    await console.run()
    first, second = (last_line(text) for text in written)
    keys = ApiKeys(store.context)
    assert await keys.find(first) is None  # replaced by the second
    found = await keys.find(second)
    assert found is not None and found.user.key == "console:alice"
    assert "with base_url http://127.0.0.1:0/v1" in written[1]
    async with started_api(store, config) as api:
        video = await api.client(second).videos.create(prompt="a red ball")
        assert (await store.jobs.require(int(video.id[6:]))).user.key == "console:alice"


async def test_without_api_the_command_says_so(tmp_path: Path) -> None:
    config = config_from_dict({"data_dir": str(tmp_path / "data")})
    store = await open_store(config)
    try:
        core = Core(store=store, config=config)
        reply = await core.handle(UserRef("console", "alice"), "/apikey", {"private": True})
        assert reply.text == f"Sorry: {replies.API_DISABLED}."
    finally:
        await close_store(store)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_telegram_gives_a_key_in_a_private_chat_only(
        telegram: FakeTelegram, config: Config, store: Store,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    adapter = await started_bot(telegram, store, config)
    try:
        group = telegram.push_message(chat_id=-100500, user_id=1001, text="/apikey",
                                      chat_type="supergroup")
        [refusal] = await telegram.wait_for("sendMessage", chat_id=-100500)
        assert refusal.params["text"] == f"Sorry: {replies.APIKEY_PRIVATE_ONLY}."
        assert refusal.params["reply_parameters"]["message_id"] == group["message_id"]
        assert await ApiKeys(store.context).of() == []

        telegram.push_message(chat_id=1001, user_id=1001, text="/apikey")
        [answer] = await telegram.wait_for("sendMessage", chat_id=1001)
        found = await ApiKeys(store.context).find(last_line(answer.params["text"]))
        assert found is not None and found.user.key == "telegram:1001"
        menu = telegram.calls_of("setMyCommands")[0].params["commands"]
        assert "apikey" in {command["command"] for command in menu}
    finally:
        await adapter.stop()


async def test_discord_answers_apikey_and_admin_apikey_ephemerally(
        tmp_path: Path, store: Store) -> None:
    fake = FakeDiscord()
    await fake.start()
    config = replace(make_config(tmp_path, fake), api=ApiConfig(listen="127.0.0.1:0"))
    alice = FakeUser(810000000000000001, "alice")
    carol = FakeUser(810000000000000003, "carol", roles=(ADMIN_ROLE_ID,))
    keys = ApiKeys(store.context)
    try:
        async with running_bot(fake, config, store) as bot:
            mine = await ack(bot, await fake.command(alice, "apikey"))
            assert mine.body["data"]["flags"] & 64  # only alice sees it
            found = await keys.find(last_line(mine.body["data"]["content"]))
            assert found is not None and found.user.key == f"discord:{alice.id}"
            made = await ack(bot, await fake.command(
                carol, "videoadmin", {"command": f"apikey create discord:{alice.id} --name ci"},
                subcommand="run"))
            assert made.body["data"]["flags"] & 64
            other = await keys.find(last_line(made.body["data"]["content"]))
            assert other is not None and (other.user.key, other.name) == (
                f"discord:{alice.id}", "ci")
            listed = await ack(bot, await fake.command(alice, "apikey", {"action": "list"}))
            assert listed.body["data"]["flags"] & 64
            assert f"#{found.id} {found.prefix}…" in listed.body["data"]["content"]
            revoked = await ack(bot, await fake.command(alice, "apikey",
                                                        {"action": "revoke", "key": found.id}))
            assert "is revoked" in revoked.body["data"]["content"]
            assert await keys.find(last_line(mine.body["data"]["content"])) is None
    finally:
        await fake.stop()


async def test_the_console_does_not_wait_for_its_users_api_jobs(config: Config,
                                                                store: Store) -> None:
    """`printf '/help' | videobot run` ends once the console's own jobs are delivered: a job
    the same user queued over HTTP is the API's to deliver."""
    request = RenderRequest(prompt="a red ball", negative_prompt="", frames=8, fps=8, width=64,
                            height=64, steps=2, guidance=0.0, seed=1, preset="demo")
    await store.submissions.submit(UserRef("console", "alice"), request, max_queued_per_user=3,
                                   api=ApiOrigin(1))
    written: list[str] = []
    console = ConsoleAdapter(core=Core(store=store, config=config), store=store,
                             user_name="alice", stdin=io.StringIO("/help\n"),
                             write=written.append)
    await asyncio.wait_for(console.run(), 10)
    assert written == [f"{replies.HELP}\n{replies.CONSOLE_HELP}"]
