"""How a real `videobot` process fails: each start-up or command failure an operator can act on
is one line on stderr and exit 2, with the traceback in the data folder's log only; and no
secret (a bot token, a webhook secret, a database password) appears in anything the failure
prints or logs. The fakes of Telegram and Discord run in this process, the bot in its own.
docs/reliability.md counts these tables."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import command, environment

pytestmark = pytest.mark.timeout(120)

TELEGRAM_TOKEN = "123456:AAH-fake-token-for-tests_0123456789"
DISCORD_TOKEN = "fake.bot-token.0123456789"
PASSWORD = "S3cretDbPassw0rd"
WEBHOOK_SECRET = "987654321"


@dataclass
class Failure:
    """What one failed process printed and left in its data folder."""

    returncode: int
    stdout: str
    stderr: str
    logs: str

    @property
    def everything(self) -> str:
        return self.stdout + self.stderr + self.logs


async def start_videobot(tmp_path: Path, config_text: str | None, *args: str,
                         env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """Start `videobot ARGS` with `config_text` as its config, its output piped."""
    config = None
    if config_text is not None:
        config = tmp_path / "config.toml"
        config.write_text(config_text)
    return await asyncio.create_subprocess_exec(
        *command(*args, data_dir=tmp_path / "data", config=config),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**environment(), "NO_PROXY": "127.0.0.1", **(env or {})})


async def ended(tmp_path: Path, process: asyncio.subprocess.Process) -> Failure:
    """What `process` printed and logged, once it has ended."""
    stdout, stderr = await asyncio.wait_for(process.communicate(), 90)
    logs = "".join(path.read_text(errors="replace")
                   for path in (tmp_path / "data").glob("logs/*"))
    assert process.returncode is not None
    return Failure(process.returncode, stdout.decode(), stderr.decode(), logs)


async def run_videobot(tmp_path: Path, config_text: str | None, *args: str,
                       env: dict[str, str] | None = None) -> Failure:
    """Run `videobot ARGS` to its end, off the event loop the fakes answer on."""
    return await ended(tmp_path, await start_videobot(tmp_path, config_text, *args, env=env))


#: A log record on stderr (a service's `videobot run` logs there), as videobot.logs formats it.
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


def assert_one_line(failure: Failure, reason: str) -> None:
    """Exit 2, one line on stderr saying `reason` (beside the log records of a service, none
    an error), no traceback or leak warning shown."""
    assert failure.returncode == 2, failure
    lines = [line for line in failure.stderr.strip().splitlines() if not LOG_LINE.match(line)]
    assert len(lines) == 1 and lines[0].startswith(f"videobot: {reason}"), failure.stderr
    shown = failure.stdout + failure.stderr
    assert "Traceback" not in shown and "Unclosed" not in shown, shown


def telegram_config(base_url: str, token: str = TELEGRAM_TOKEN, extra: str = "") -> str:
    return (f'[console]\nenabled = false\n[telegram]\ntoken = "{token}"\n'
            f'api_base_url = "{base_url}"\n{extra}')


def discord_config(fake: FakeDiscord | None, token: str = DISCORD_TOKEN) -> str:
    api = fake.api_base_url if fake else "http://127.0.0.1:1/api/v10"
    gateway = fake.gateway_url if fake else "ws://127.0.0.1:1/gateway"
    return (f'[console]\nenabled = false\n[discord]\ntoken = "{token}"\n'
            f'api_base_url = "{api}"\ngateway_url = "{gateway}"\nguild_ids = [1]\n')


# -- start-up failures with a secret to keep: (name, the scenario) ----------------------------


async def telegram_500_echoing_the_token(tmp_path: Path) -> tuple[Failure, str, str]:
    async with FakeTelegram(token=TELEGRAM_TOKEN) as api:
        api.fail_next("getMe", times=10, status=500,
                      description=f"Internal Server Error at /bot{TELEGRAM_TOKEN}/getMe")
        failure = await run_videobot(tmp_path, telegram_config(api.base_url),
                                     "run", "--no-workers")
    return failure, "could not reach the Bot API at telegram.api_base_url", TELEGRAM_TOKEN


async def telegram_token_refused(tmp_path: Path) -> tuple[Failure, str, str]:
    async with FakeTelegram(token="999:the-right-one") as api:
        failure = await run_videobot(tmp_path, telegram_config(api.base_url),
                                     "run", "--no-workers")
    return failure, "Telegram refused telegram.token", TELEGRAM_TOKEN


async def telegram_unreachable(tmp_path: Path) -> tuple[Failure, str, str]:
    failure = await run_videobot(tmp_path, telegram_config("http://127.0.0.1:1/bot"),
                                 "run", "--no-workers")
    return failure, "could not reach the Bot API", TELEGRAM_TOKEN


async def telegram_webhook_port_taken(tmp_path: Path) -> tuple[Failure, str, str]:
    async with FakeTelegram(token=TELEGRAM_TOKEN) as api:
        extra = (f'mode = "webhook"\nwebhook_url = "https://example.org/hook"\n'
                 f'webhook_secret = "{WEBHOOK_SECRET}x"\nwebhook_port = {api.port}\n')
        failure = await run_videobot(tmp_path, telegram_config(api.base_url, extra=extra),
                                     "run", "--no-workers")
    return failure, f"cannot serve the webhook on 127.0.0.1:{api.port}", TELEGRAM_TOKEN


async def telegram_token_of_the_wrong_type(tmp_path: Path) -> tuple[Failure, str, str]:
    text = f'[telegram]\ntoken = ["{TELEGRAM_TOKEN}"]\n'
    failure = await run_videobot(tmp_path, text, "run", "--no-workers")
    return failure, "telegram.token: must be a string", TELEGRAM_TOKEN


async def webhook_secret_of_the_wrong_type(tmp_path: Path) -> tuple[Failure, str, str]:
    text = f'[telegram]\ntoken = "1:x"\nwebhook_secret = {WEBHOOK_SECRET}\n'
    failure = await run_videobot(tmp_path, text, "run", "--no-workers")
    return failure, "telegram.webhook_secret: must be a string", WEBHOOK_SECRET


async def discord_token_refused(tmp_path: Path) -> tuple[Failure, str, str]:
    fake = FakeDiscord(token="another.token.entirely")
    await fake.start()
    try:
        failure = await run_videobot(tmp_path, discord_config(fake), "run", "--no-workers")
    finally:
        await fake.stop()
    return failure, "Discord refused discord.token", DISCORD_TOKEN


async def discord_unreachable(tmp_path: Path) -> tuple[Failure, str, str]:
    failure = await run_videobot(tmp_path, discord_config(None), "run", "--no-workers")
    return failure, "could not reach Discord", DISCORD_TOKEN


async def discord_token_of_the_wrong_type(tmp_path: Path) -> tuple[Failure, str, str]:
    failure = await run_videobot(tmp_path, f"[discord]\ntoken = {{ t = '{DISCORD_TOKEN}' }}\n",
                                 "run", "--no-workers")
    return failure, "discord.token: must be a string", DISCORD_TOKEN


async def database_unreachable(tmp_path: Path) -> tuple[Failure, str, str]:
    url = f"postgresql+asyncpg://videobot:{PASSWORD}@127.0.0.1:1/videobot"
    failure = await run_videobot(tmp_path, None, "status", "1",
                                 env={"VIDEOBOT_DATABASE_URL": url})
    return failure, "cannot reach the database at postgresql+asyncpg://videobot:***@", PASSWORD


async def database_url_of_the_wrong_type(tmp_path: Path) -> tuple[Failure, str, str]:
    url = f"postgresql://videobot:{PASSWORD}@127.0.0.1:1/videobot"
    failure = await run_videobot(tmp_path, f'[database]\nurl = ["{url}"]\n', "status", "1")
    return failure, "database.url: must be a string", PASSWORD


SECRET_SCENARIOS: list[Callable[[Path], Awaitable[tuple[Failure, str, str]]]] = [
    telegram_500_echoing_the_token, telegram_token_refused, telegram_unreachable,
    telegram_webhook_port_taken, telegram_token_of_the_wrong_type,
    webhook_secret_of_the_wrong_type, discord_token_refused, discord_unreachable,
    discord_token_of_the_wrong_type, database_unreachable, database_url_of_the_wrong_type,
]


@pytest.mark.parametrize("scenario", SECRET_SCENARIOS, ids=lambda s: s.__name__)
async def test_a_failed_start_says_why_in_one_line_and_never_shows_the_secret(
        tmp_path: Path, scenario: Callable[[Path], Awaitable[tuple[Failure, str, str]]]
) -> None:
    failure, reason, secret = await scenario(tmp_path)
    assert_one_line(failure, reason)
    assert secret not in failure.everything


# -- command failures: (name, arguments, what to set up, the reason) -------------------------


def corrupt(data: Path) -> None:
    data.mkdir(parents=True)
    (data / "videobot.db").write_bytes(b"this is not a database, " * 400)


def truncated(data: Path) -> None:
    data.mkdir(parents=True)
    with sqlite3.connect(data / "videobot.db") as db:
        db.execute("CREATE TABLE filler (x TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    whole = (data / "videobot.db").read_bytes()
    (data / "videobot.db").write_bytes(whole[: len(whole) // 3])


def a_folder_named_out(data: Path) -> None:
    (data.parent / "out").mkdir(parents=True)


def nothing(data: Path) -> None:
    pass


COMMAND_FAILURES = [
    ("corrupt SQLite file, status", ("status", "1"), corrupt, "the database file"),
    ("corrupt SQLite file, run", ("run", "--no-workers"), corrupt, "the database file"),
    ("truncated SQLite file, admin queue", ("admin", "queue"), truncated, "the database file"),
    ("truncated SQLite file, submit", ("submit", "a ball"), truncated, "the database file"),
    ("a job number beyond any id", ("status", "99999999999999999999"), nothing,
     "there is no job #99999999999999999999"),
    ("generate --out a folder", ("generate", "x", "--out", "OUT"), a_folder_named_out,
     "--out OUT: OUT is a folder"),
]


@pytest.mark.parametrize(("args", "setup", "reason"),
                         [case[1:] for case in COMMAND_FAILURES],
                         ids=[case[0] for case in COMMAND_FAILURES])
async def test_a_failed_command_says_why_in_one_line_with_the_traceback_in_the_log(
        tmp_path: Path, args: tuple[str, ...], setup: Callable[[Path], None],
        reason: str) -> None:
    setup(tmp_path / "data")
    out = str(tmp_path / "out")
    args = tuple(arg.replace("OUT", out) for arg in args)
    failure = await run_videobot(tmp_path, None, *args)
    assert_one_line(failure, reason.replace("OUT", out))
    if "database" in reason:
        assert "Traceback" in failure.logs


async def test_a_failure_while_shutting_down_never_shows_the_token(tmp_path: Path) -> None:
    async with FakeTelegram(token=TELEGRAM_TOKEN) as api:
        api.fail_next("deleteWebhook", times=10, status=500,
                      description=f"Internal Server Error at /bot{TELEGRAM_TOKEN}/deleteWebhook")
        extra = ('mode = "webhook"\nwebhook_url = "https://example.org/hook"\n'
                 f'webhook_secret = "{WEBHOOK_SECRET}x"\nwebhook_port = {free_port()}\n')
        bot = await start_videobot(tmp_path, telegram_config(api.base_url, extra=extra), "run",
                                   "--no-workers")
        await api.wait_for("setWebhook", within=60)
        bot.send_signal(signal.SIGTERM)
        failure = await ended(tmp_path, bot)
    assert failure.returncode == 0, failure
    assert "deleteWebhook failed" in failure.everything
    assert TELEGRAM_TOKEN not in failure.everything


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
