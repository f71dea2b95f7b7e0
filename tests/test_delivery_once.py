"""A bot killed (SIGKILL) after the platform took the clip and before the bot recorded it posts
the clip once in all, after its restart: on Discord by the message's nonce, on Telegram and
the console by the bot's journal, written before any database lock is waited for. Real
`videobot run` and `videobot worker` processes; the fakes of Discord and Telegram in this
process, holding their answer (or the database's write lock) where the crash must fall."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path

import pytest

from storage.connect import close_store, open_store
from storage.records import JobRecord
from tests.fakes.discord_api import GUILD_ID, FakeDiscord, FakeUser
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import command, environment
from videobot.config import load_config

pytestmark = pytest.mark.timeout(180)

ALICE = FakeUser(810000000000000001, "alice")
#: How long the bot may take, killed or not, to reach the point the test waits for.
PATIENCE_S = 60.0


@asynccontextmanager
async def videobot(tmp_path: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`videobot ARGS` running with the test's config and data folder; killed if left."""
    process = await asyncio.create_subprocess_exec(
        *command(*args, data_dir=tmp_path / "data", config=tmp_path / "config.toml"),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**environment(), "NO_PROXY": "127.0.0.1"})
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def render(tmp_path: Path) -> None:
    """Render every queued job with a real worker process (the demo model)."""
    async with videobot(tmp_path, "worker", "--burst") as worker:
        assert await asyncio.wait_for(worker.wait(), PATIENCE_S) == 0


async def job(tmp_path: Path, job_id: int = 1) -> JobRecord:
    store = await open_store(load_config(tmp_path / "config.toml", data_dir=tmp_path / "data"))
    try:
        return await store.jobs.require(job_id)
    finally:
        await close_store(store)


async def until_delivered(tmp_path: Path, job_id: int = 1) -> JobRecord:
    for _ in range(int(PATIENCE_S / 0.2)):
        record = await job(tmp_path, job_id)
        if record.delivered_at is not None:
            return record
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} was not delivered")


async def eventually(condition: Callable[[], bool], seconds: float = PATIENCE_S) -> bool:
    """Whether `condition` came true within `seconds`."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


async def stopped(bot: asyncio.subprocess.Process) -> None:
    bot.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(bot.wait(), PATIENCE_S) == 0


async def killed(bot: asyncio.subprocess.Process) -> None:
    bot.kill()
    await bot.wait()


async def test_discord_a_bot_killed_before_recording_the_post_posts_once(
        tmp_path: Path) -> None:
    fake = FakeDiscord()
    await fake.start()
    (tmp_path / "config.toml").write_text(
        f'[console]\nenabled = false\n[discord]\ntoken = "{fake.token}"\n'
        f'api_base_url = "{fake.api_base_url}"\ngateway_url = "{fake.gateway_url}"\n'
        f"guild_ids = [{GUILD_ID}]\n")
    try:
        # The clip's message is created, its answer held: the bot is killed waiting for it.
        held = fake.hold("POST", r"^/(channels/\d+/messages|webhooks/\d+/[^/]+)$")
        async with videobot(tmp_path, "run", "--no-workers") as first:
            await asyncio.wait_for(fake.identified.wait(), PATIENCE_S)
            interaction = await fake.command(ALICE, "video", {"prompt": "a red ball"})
            while fake.callback(interaction) is None:
                await fake.changed(0.1)
            await render(tmp_path)
            await asyncio.wait_for(held.reached.wait(), PATIENCE_S)
            await killed(first)
        held.release()
        assert len(fake.posted_files()) == 1
        async with videobot(tmp_path, "run", "--no-workers") as second:
            delivered = await until_delivered(tmp_path)
            await stopped(second)
    finally:
        await fake.stop()
    [posted] = fake.posted_files()
    assert delivered.reply_target["result_message_id"] == int(posted["id"])
    assert posted["content"].startswith(f"<@{ALICE.id}> a red ball")


async def test_telegram_a_bot_killed_while_the_database_is_locked_posts_once(
        tmp_path: Path) -> None:
    async with FakeTelegram() as api:
        (tmp_path / "config.toml").write_text(
            f'[console]\nenabled = false\n[telegram]\ntoken = "{api.token}"\n'
            f'api_base_url = "{api.base_url}"\n')
        async with videobot(tmp_path, "run", "--no-workers") as first:
            await api.wait_for("setMyCommands", within=PATIENCE_S)
            with database_lock(tmp_path) as lock:

                async def hold_the_write_lock() -> None:
                    # As a worker finishing a job might: the bot must not wait for this lock
                    # to record that sendVideo succeeded.
                    lock.execute("BEGIN IMMEDIATE")

                message = api.push_message(chat_id=1001, user_id=1001, text="/video a red ball")
                await api.wait_for("sendMessage", within=PATIENCE_S, chat_id=1001)
                api.before_answer["sendVideo"] = hold_the_write_lock
                await render(tmp_path)
                await api.wait_for("sendVideo", within=PATIENCE_S)
                # The bot's last step of this delivery, with no database write before it.
                try:
                    await api.wait_for("deleteMessage", within=5.0)
                except AssertionError:
                    pass  # waiting for the database: kill it there
                await killed(first)
                lock.execute("ROLLBACK")
        del api.before_answer["sendVideo"]
        async with videobot(tmp_path, "run", "--no-workers") as second:
            delivered = await until_delivered(tmp_path)
            await stopped(second)
        videos = [call for call in api.calls_of("sendVideo")
                  if call.params["reply_parameters"]["message_id"] == message["message_id"]]
    assert len(videos) == 1
    assert isinstance(delivered.reply_target["result_message_id"], int)


async def test_the_console_killed_before_recording_the_delivery_prints_it_once(
        tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("")
    async with videobot(tmp_path, "submit", "a red ball", "--seed", "7") as submit:
        assert await submit.wait() == 0
    log = tmp_path / "data" / "logs" / "videobot.log"
    with database_lock(tmp_path) as lock:
        async with videobot(tmp_path, "run", "--no-workers") as first:
            assert await eventually(lambda: log.exists() and "videobot running" in log.read_text())
            # Paused, the bot cannot deliver before the test holds the lock it records with.
            await paused_between_writes(first, lock)
            await render(tmp_path)
            lock.execute("BEGIN IMMEDIATE")
            first.send_signal(signal.SIGCONT)
            assert first.stdout is not None
            printed = await asyncio.wait_for(first.stdout.readuntil(b" done: "), PATIENCE_S)
            assert b"Job #1 done: " in printed
            # The journal's line follows the print by a local write (the window left).
            journal = tmp_path / "data" / "posted.jsonl"
            await eventually(lambda: journal.exists() and '"posted"' in journal.read_text(), 5.0)
            await killed(first)
        lock.execute("ROLLBACK")
    async with videobot(tmp_path, "run", "--no-workers") as second:
        output, _ = await asyncio.wait_for(second.communicate(), PATIENCE_S)
    assert second.returncode == 0, output
    assert b"done" not in output
    assert (await job(tmp_path)).delivered_at is not None


def database_lock(tmp_path: Path) -> closing[sqlite3.Connection]:
    """A connection to the bot's SQLite file that takes its write lock when told to."""
    return closing(sqlite3.connect(tmp_path / "data" / "videobot.db", isolation_level=None,
                                   timeout=30, check_same_thread=False))


async def paused_between_writes(bot: asyncio.subprocess.Process,
                                lock: sqlite3.Connection) -> None:
    """SIGSTOP the bot at a moment it holds no write lock (else a worker could not finish)."""
    while True:
        bot.send_signal(signal.SIGSTOP)
        try:
            lock.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            bot.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.05)
            continue
        lock.execute("ROLLBACK")
        return
