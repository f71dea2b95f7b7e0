"""The Telegram adapter: the real python-telegram-bot client against a local Bot API fake,
with the real core, delivery loop and job store (SQLite), and real clips from the worker."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import av
import numpy as np
import pytest

from bot.adapters.telegram import TelegramAdapter, TelegramStartError, upload_limit_bytes
from bot.core import replies
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from tests.backends import StripesBackend, render_every_preset, stand_in_worker
from tests.fakes.telegram_api import BOT_USERNAME, Call, FakeTelegram, message_update
from videobot.config import Config, TelegramConfig, config_from_dict
from videobot.media.encode import encode_clip
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE, BOB, ADMIN = 1001, 1002, 1003
GROUP = -100500
SMALL = "--frames 8 --steps 4 --width 64 --height 64"


@pytest.fixture(autouse=True)
def _local_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # Opt in to python-telegram-bot's future `timedelta` periods (else reading them warns).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": "tiny",
                             "limits": {"max_queued_per_user": 10}})


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@dataclass
class Bot:
    """A started adapter with its delivery loop, and the worker to render with."""

    api: FakeTelegram
    store: Store
    config: Config
    adapter: TelegramAdapter
    backend: StripesBackend

    async def render(self) -> None:
        """Render every queued job (in this process, with the fast stand-in model)."""
        worker = stand_in_worker(self.store, self.config, self.backend)
        await worker.run(burst=True)

    async def job(self, job_id: int) -> JobRecord:
        return await self.store.jobs.require(job_id)

    async def delivered(self, job_id: int) -> JobRecord:
        for _ in range(500):
            job = await self.store.jobs.require(job_id)
            if job.delivered_at is not None:
                return job
            await asyncio.sleep(0.02)
        raise AssertionError(f"job {job_id} was not delivered")

    async def ack_of(self, message: dict[str, Any]) -> tuple[Call, int]:
        """The acknowledgement replying to `message`, and its job id."""
        call = await reply_call(self.api, message)
        job_id = int(call.params["text"].split("#")[1].split(" ")[0])
        await self.status_message_id(job_id)
        return call, job_id

    async def status_message_id(self, job_id: int) -> int:
        """The job's status message id, once the adapter has recorded it."""
        for _ in range(250):
            if status_id := (await self.job(job_id)).reply_target.get("status_message_id"):
                return int(status_id)
            await asyncio.sleep(0.02)
        raise AssertionError(f"job {job_id} has no status message")


def telegram_config(api: FakeTelegram, **changes: Any) -> TelegramConfig:
    return replace(TelegramConfig(token=api.token, api_base_url=api.base_url, admins=(ADMIN,),
                                  progress_interval_seconds=0.3), **changes)


async def started_bot(api: FakeTelegram, store: Store, config: Config,
                      **changes: Any) -> TelegramAdapter:
    adapter = TelegramAdapter(core=Core(store=store, config=config), store=store,
                              config=telegram_config(api, **changes),
                              work_dir=config.data_dir / "uploads")
    await adapter.start()
    return adapter


@pytest.fixture
async def bot(api: FakeTelegram, store: Store, config: Config,
              request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    changes = getattr(request, "param", {})
    adapter = await started_bot(api, store, config, **changes)
    stop = asyncio.Event()
    loop = DeliveryLoop(store=store, adapters={"telegram": adapter},
                        clips_dir=config.data_dir / "clips", poll_interval=0.05,
                        journal=adapter.journal)
    delivery = asyncio.create_task(loop.run(stop))
    yield Bot(api, store, config, adapter, StripesBackend(step_seconds=0.15))
    stop.set()
    await delivery
    await adapter.stop()


def video_calls(api: FakeTelegram) -> list[Call]:
    """The `sendVideo` calls that succeeded (those that carry a file and got a message)."""
    posted = {m["message_id"] for m in api.messages.values() if "video" in m}
    return [c for c in api.calls_of("sendVideo") if c.files] if posted else []


def posted_videos(api: FakeTelegram) -> list[dict[str, Any]]:
    return [m for m in api.messages.values() if "video" in m]


def decode(data: bytes) -> tuple[str, int, int, int]:
    """(codec, width, height, frames) of an MP4 held in memory."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.name, stream.width, stream.height, frames


# -- the /video experience ---------------------------------------------------------------------

async def test_private_video_end_to_end(bot: Bot) -> None:
    api = bot.api
    assert [c.method for c in api.calls[:2]] == ["getMe", "setMyCommands"]
    commands = api.calls_of("setMyCommands")[0].params["commands"]
    assert {c["command"] for c in commands} >= {"video", "status", "cancel", "queue", "help"}

    message = api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a red ball {SMALL}")
    ack, job_id = await bot.ack_of(message)
    job = await bot.job(job_id)
    assert ack.params["text"] == replies.acknowledgement(job, 1, 20 - job.cost)
    [[cancel]] = ack.params["reply_markup"]["inline_keyboard"]
    assert cancel == {"text": "Cancel", "callback_data": f"cancel:{job_id}"}
    assert job.user == UserRef("telegram", str(ALICE), "Alice")

    await bot.render()
    job = await bot.delivered(job_id)
    status_id = job.reply_target["status_message_id"]
    edits = api.calls_of("editMessageText")
    assert any("rendering [" in e.params["text"] for e in edits), [e.params for e in edits]
    assert all(e.params["message_id"] == status_id for e in edits)

    [video] = video_calls(api)
    codec, width, height, frames = decode(video.files["video"])
    assert (codec, width, height, frames) == ("h264", 64, 64, 8)
    assert video.params["caption"] == replies.caption(job)
    assert video.params["supports_streaming"] is True
    assert (video.params["width"], video.params["height"], video.params["duration"]) == (64, 64, 1)
    thumbnail = video.params["thumbnail"]
    assert thumbnail.startswith("attach://") and video.files[thumbnail.removeprefix("attach://")]
    assert video.params["reply_parameters"]["message_id"] == message["message_id"]
    buttons = video.params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"reroll:{job_id}", f"same:{job_id}",
                                                     f"extend:{job_id}", f"vary:{job_id}"]
    assert (ALICE, status_id) not in api.messages  # the status message is removed
    assert job.reply_target["result_message_id"] == posted_videos(api)[0]["message_id"]


async def test_progress_edits_are_throttled_per_chat(bot: Bot) -> None:
    api = bot.api
    bot.backend.step_seconds = 0.05
    message = api.push_message(chat_id=ALICE, user_id=ALICE,
                               text="/video a kite --frames 8 --width 64 --height 64 --steps 12")
    _, job_id = await bot.ack_of(message)
    await bot.render()
    await bot.delivered(job_id)
    times = [c.at for c in api.calls_of("editMessageText")]
    assert times
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.3 - 0.02 for gap in gaps), gaps


@pytest.mark.parametrize("bot", [{"allowed_chats": (ALICE, GROUP)}], indirect=True)
async def test_group_commands_for_this_bot_only(bot: Bot) -> None:
    api = bot.api
    ours = api.push_message(chat_id=GROUP, user_id=BOB, chat_type="supergroup",
                            text=f"/video@{BOT_USERNAME} a green kite {SMALL}")
    api.push_message(chat_id=GROUP, user_id=BOB, chat_type="supergroup",
                     text="/video@SomeOtherBot a dog")
    api.push_message(chat_id=GROUP, user_id=BOB, chat_type="supergroup", text="just chatting")
    api.push_message(chat_id=GROUP, user_id=BOB, chat_type="supergroup", text="/weather")
    api.push_message(chat_id=GROUP, user_id=4242, chat_type="supergroup", is_bot=True,
                     text=f"/video@{BOT_USERNAME} from a bot")
    api.push_message(chat_id=777, user_id=777, text="/video from a chat not allowed")
    _, job_id = await bot.ack_of(ours)
    await asyncio.sleep(0.5)  # time for the ignored ones to have been answered, if wrongly
    assert len(api.calls_of("sendMessage")) == 1
    job = await bot.job(job_id)
    assert job.request.prompt == "a green kite"
    assert job.reply_target["chat_id"] == GROUP and job.user.platform_user_id == str(BOB)


async def test_plain_text_in_private_chat_is_a_prompt(bot: Bot) -> None:
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE, text="a cat on a skateboard")
    _, job_id = await bot.ack_of(message)
    assert (await bot.job(job_id)).request.prompt == "a cat on a skateboard"


async def test_bad_flags_are_answered_clearly_and_queue_nothing(bot: Bot) -> None:
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE,
                                   text="/video a cat --frames lots")
    [answer] = await bot.api.wait_for("sendMessage")
    assert answer.params["text"] == "Sorry: --frames needs a whole number, not 'lots'."
    assert answer.params["reply_parameters"]["message_id"] == message["message_id"]
    assert "reply_markup" not in answer.params
    assert await bot.store.jobs.jobs_of(UserRef("telegram", str(ALICE))) == []



async def test_a_chats_commands_are_answered_in_order(bot: Bot) -> None:
    """Updates are handled at once, but one chat's one after the other: a quick /help sent
    right after a /video is answered after it."""
    api = bot.api
    first = api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a red ball {SMALL}")
    second = api.push_message(chat_id=ALICE, user_id=ALICE, text="/help")
    api.push_message(chat_id=BOB, user_id=BOB, text="/help")
    calls = await api.wait_for("sendMessage", count=3)
    answered = [(c.params["chat_id"], c.params["reply_parameters"]["message_id"])
                for c in calls]
    assert answered.index((ALICE, first["message_id"])) < answered.index(
        (ALICE, second["message_id"]))


# -- buttons ---------------------------------------------------------------------------------

async def test_cancel_button_cancels_and_the_status_message_says_so(bot: Bot) -> None:
    api = bot.api
    message = api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
    _, job_id = await bot.ack_of(message)
    status = api.messages[(ALICE, (await bot.job(job_id)).reply_target["status_message_id"])]
    api.push_callback(user_id=ALICE, message=status, data=f"cancel:{job_id}")
    [answer] = await api.wait_for("answerCallbackQuery")
    assert answer.params.get("show_alert") is not True
    job = await bot.delivered(job_id)
    assert job.status == JobStatus.CANCELLED
    assert status["text"] == replies.finished(job) == (
        f"Job #{job_id} was cancelled; 0.5 credits refunded.")
    assert "reply_markup" not in status  # no Cancel button on a finished job


async def test_a_stranger_cannot_press_someone_elses_buttons(bot: Bot) -> None:
    api = bot.api
    message = api.push_message(chat_id=GROUP, user_id=ALICE, chat_type="group",
                               text=f"/video a kite {SMALL}")
    _, job_id = await bot.ack_of(message)
    status = api.messages[(GROUP, (await bot.job(job_id)).reply_target["status_message_id"])]
    for data in (f"cancel:{job_id}", f"reroll:{job_id}", f"same:{job_id}"):
        api.push_callback(user_id=BOB, first_name="Bob", message=status, data=data)
    answers = await api.wait_for("answerCallbackQuery", count=3)
    for answer in answers:
        assert answer.params["show_alert"] is True
        assert answer.params["text"] == f"Sorry: job #{job_id} belongs to someone else."
    assert (await bot.job(job_id)).status == JobStatus.QUEUED
    assert len(await bot.store.jobs.active_jobs()) == 1

    api.push_callback(user_id=ADMIN, first_name="Admin", message=status, data=f"cancel:{job_id}")
    assert (await bot.delivered(job_id)).status == JobStatus.CANCELLED


async def test_reroll_and_same_seed_buttons_queue_the_request_again(bot: Bot) -> None:
    api = bot.api
    message = api.push_message(chat_id=ALICE, user_id=ALICE,
                               text=f"/video a kite {SMALL} --seed 5")
    _, job_id = await bot.ack_of(message)
    await bot.render()
    first = await bot.delivered(job_id)
    [video_message] = posted_videos(api)
    api.push_callback(user_id=ALICE, message=video_message, data=f"reroll:{job_id}")
    api.push_callback(user_id=ALICE, message=video_message, data=f"same:{job_id}")
    await api.wait_for("answerCallbackQuery", count=2)
    acks = await api.wait_for("sendMessage", count=3)
    reruns = [await bot.job(int(a.params["text"].split("#")[1].split(" ")[0])) for a in acks[1:]]
    assert all(a.params["reply_parameters"]["message_id"] == video_message["message_id"]
               for a in acks[1:])
    seeds = sorted(job.request.seed for job in reruns)
    assert 5 in seeds and len(set(seeds)) == 2
    for job in reruns:
        assert job.request.replace(seed=5) == first.request
        assert job.user == first.user and job.status == JobStatus.QUEUED


# -- Telegram trouble ------------------------------------------------------------------------

async def test_flood_control_on_edits_and_upload_is_waited_out(bot: Bot) -> None:
    api = bot.api
    api.fail_next("editMessageText", times=1, retry_after=1)
    api.fail_next("sendVideo", times=2, retry_after=1)
    message = api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
    _, job_id = await bot.ack_of(message)
    refused, retried = await api.wait_for("editMessageText", count=2)
    assert retried.params["text"] == refused.params["text"]
    assert retried.at - refused.at >= 1.0 - 0.05  # retry_after obeyed
    await bot.render()
    job = await bot.delivered(job_id)
    assert len(api.calls_of("sendVideo")) == 3
    assert len(posted_videos(api)) == 1
    assert job.reply_target["result_message_id"] == posted_videos(api)[0]["message_id"]


async def test_server_errors_are_retried(bot: Bot) -> None:
    bot.api.fail_next("sendMessage", times=2, status=502, description="Bad Gateway")
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
    _, job_id = await bot.ack_of(message)
    await bot.api.wait_for("sendMessage", count=3)
    status_id = await bot.status_message_id(job_id)
    # The acknowledgement, or already the progress edit that replaced it.
    assert bot.api.messages[(ALICE, status_id)]["text"].startswith(
        (f"Job #{job_id} queued", f"Job #{job_id}: waiting"))


async def test_a_deleted_status_message_does_not_stop_delivery(bot: Bot) -> None:
    api = bot.api
    message = api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
    _, job_id = await bot.ack_of(message)
    api.delete_message(ALICE, (await bot.job(job_id)).reply_target["status_message_id"])
    await bot.store.cancels.request(job_id, None)
    job = await bot.delivered(job_id)
    notice = api.messages[(ALICE, job.reply_target["result_message_id"])]
    assert notice["text"] == f"Job #{job_id} was cancelled; 0.5 credits refunded."


async def test_a_failed_job_gets_a_final_message(bot: Bot) -> None:
    bot.backend.error = RuntimeError("out of memory")
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
    _, job_id = await bot.ack_of(message)
    await bot.render()
    job = await bot.delivered(job_id)
    status = bot.api.messages[(ALICE, job.reply_target["status_message_id"])]
    assert job.status == JobStatus.FAILED and status["text"] == replies.finished(job)
    assert "out of memory" not in status["text"]


# -- delivery from the job table (no worker) -------------------------------------------------

async def finished_job(store: Store, config: Config, frames: np.ndarray,
                       reply_target: dict[str, Any]) -> int:
    """A succeeded job whose clip holds `frames`, as the worker would have stored it."""
    request = RenderRequest(prompt="noise", negative_prompt="", frames=len(frames), fps=8,
                            width=frames.shape[2], height=frames.shape[1], steps=1,
                            guidance=7.5, seed=1, preset="tiny")
    job = await store.submissions.enqueue(UserRef("telegram", str(ALICE), "Alice"), request,
                                          reply_target=reply_target, max_queued_per_user=10)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == job.id
    clips = config.data_dir / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    clip = await asyncio.to_thread(encode_clip, frames, 8, clips / f"{job.id}.mp4",
                                   clips / f"{job.id}.jpg")
    await store.leases.finish_succeeded(job.id, 1, replace(clip, render_seconds=0.1))
    return job.id


@pytest.mark.parametrize("bot", [{"upload_limit_mb": 1}], indirect=True)
async def test_a_clip_over_the_upload_limit_is_re_encoded(bot: Bot) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (24, 256, 256, 3), dtype=np.uint8)
    job_id = await finished_job(bot.store, bot.config, noise, {"chat_id": ALICE})
    job = await bot.delivered(job_id)
    assert job.clip is not None and job.clip.size_bytes > 1_000_000
    [video] = video_calls(bot.api)
    assert len(video.files["video"]) <= 1_000_000
    assert decode(video.files["video"])[0] == "h264"
    assert video.params["caption"] == replies.upload_caption(
        job, "re-encoded at a lower bitrate to fit the 1 MB upload limit")


async def test_a_clip_already_posted_is_not_posted_again(bot: Bot) -> None:
    # As after a crash between sendVideo and marking the job delivered.
    frames = np.zeros((8, 32, 32, 3), np.uint8)
    job_id = await finished_job(bot.store, bot.config, frames,
                                {"chat_id": ALICE, "result_message_id": 55})
    await bot.delivered(job_id)
    assert bot.api.calls_of("sendVideo") == []


def test_the_upload_limit_follows_the_api_server() -> None:
    official = TelegramConfig(token="t")
    assert upload_limit_bytes(official) == 50_000_000
    assert upload_limit_bytes(replace(official, api_base_url="http://bot-api:8081/bot")) == (
        2_000_000_000)
    assert upload_limit_bytes(replace(official, upload_limit_mb=20)) == 20_000_000


# -- operation -------------------------------------------------------------------------------

async def test_webhook_checks_the_secret(api: FakeTelegram, store: Store, config: Config,
                                         unused_tcp_port: int) -> None:
    adapter = await started_bot(api, store, config, mode="webhook",
                                webhook_url=f"https://bot.example/hook/{unused_tcp_port}",
                                webhook_port=unused_tcp_port, webhook_secret="s3cret")
    try:
        assert api.webhook["url"] == f"https://bot.example/hook/{unused_tcp_port}"
        assert api.webhook["secret_token"] == "s3cret"
        assert api.calls_of("getUpdates") == []
        message = api.user_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
        url = f"http://127.0.0.1:{unused_tcp_port}/hook/{unused_tcp_port}"
        async with aiohttp.ClientSession() as http:
            for secret in ("wrong", ""):
                async with http.post(url, json=message_update(message, 1),
                                     headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
                    assert r.status == 403
            async with http.post(url, json=message_update(message, 2),
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as r:
                assert r.status == 200
        [ack] = await api.wait_for("sendMessage")
        assert ack.params["text"].startswith("Job #1 queued")
    finally:
        await adapter.stop()
    assert api.calls[-1].method == "deleteWebhook"
    assert len(await store.jobs.active_jobs()) == 1


async def test_the_token_never_reaches_the_logs(api: FakeTelegram, store: Store,
                                                config: Config,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        adapter = await started_bot(api, store, config)
        api.push_message(chat_id=ALICE, user_id=ALICE, text="/help")
        await api.wait_for("sendMessage")
        await adapter.stop()
    assert "<token>" in caplog.text  # httpx logged the request URLs...
    assert api.token not in caplog.text  # ...without the token
    assert all(api.token not in record.getMessage() for record in caplog.records)


async def test_calls_go_through_the_proxy_the_environment_names(
        api: FakeTelegram, store: Store, config: Config,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`HTTP(S)_PROXY` and `NO_PROXY` are honoured, a login in the proxy's URL included. The
    fake stands in for the proxy: an HTTP proxy is sent each request with its full URL."""
    port = urlsplit(api.base_url).port
    monkeypatch.setenv("HTTP_PROXY", f"http://bot:s%40cret@127.0.0.1:{port}")
    adapter = await started_bot(api, store, config, api_base_url="http://telegram.invalid/bot")
    try:
        api.push_message(chat_id=ALICE, user_id=ALICE, text="/help")
        await api.wait_for("sendMessage")
    finally:
        await adapter.stop()
    login = base64.b64encode(b"bot:s@cret").decode()
    for call in (api.calls_of("getMe")[0], api.calls_of("sendMessage")[0]):
        assert call.headers["Host"] == "telegram.invalid"
        assert call.headers["Proxy-Authorization"] == f"Basic {login}"
    # HTTPS through the proxy: the login goes with the CONNECT (refused here, so no start).
    connects: list[bytes] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connects.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(refuse, "127.0.0.1", 0)
    proxy_port = proxy.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://bot:s%40cret@127.0.0.1:{proxy_port}")
    async with proxy:
        with pytest.raises(TelegramStartError, match="could not reach the Bot API"):
            await started_bot(api, store, config, api_base_url="https://telegram.invalid/bot")
    assert connects[0].startswith(b"CONNECT telegram.invalid:443 ")
    assert f"Proxy-Authorization: Basic {login}".encode() in connects[0]
    # Named in NO_PROXY: straight to the server (which, here, does not exist).
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,telegram.invalid")
    with pytest.raises(TelegramStartError, match="could not reach the Bot API"):
        await started_bot(api, store, config, api_base_url="http://telegram.invalid/bot")


async def test_polling_stops_promptly(api: FakeTelegram, store: Store,
                                      config: Config) -> None:
    adapter = await started_bot(api, store, config)
    await api.wait_for("getUpdates")
    loop = asyncio.get_running_loop()
    began = loop.time()
    await adapter.stop()
    assert loop.time() - began < 2.0
    assert api.calls_of("getUpdates")[-1].params["timeout"] == 0


async def test_a_refused_token_stops_start_without_showing_it(
        api: FakeTelegram, store: Store, config: Config,
        caplog: pytest.LogCaptureFixture) -> None:
    adapter = TelegramAdapter(core=Core(store=store, config=config), store=store,
                              config=telegram_config(api, token="999:not-the-right-token"),
                              work_dir=config.data_dir / "uploads")
    with caplog.at_level(logging.DEBUG), pytest.raises(TelegramStartError) as refused:
        await adapter.start()
    await adapter.stop()
    assert "not-the-right-token" not in str(refused.value)
    assert "not-the-right-token" not in caplog.text


async def answer_to(api: FakeTelegram, message: dict[str, Any], tries: int = 250) -> str:
    """The text of the bot's reply to `message`."""
    return str((await reply_call(api, message, tries)).params["text"])


async def reply_call(api: FakeTelegram, message: dict[str, Any], tries: int = 250) -> Call:
    """The bot's `sendMessage` replying to `message` (in its chat), once it came."""
    for _ in range(tries):
        for call in api.calls_of("sendMessage"):
            if call.params.get("chat_id") == message["chat"]["id"] and call.params.get(
                    "reply_parameters", {}).get("message_id") == message["message_id"]:
                return call
        await asyncio.sleep(0.02)
    raise AssertionError("no answer")


async def test_admins_name_users_by_username_or_by_replying_to_them(bot: Bot) -> None:
    api = bot.api
    spam = api.push_message(chat_id=GROUP, user_id=BOB, chat_type="supergroup",
                            username="Bob_the_spammer", text=f"/video a dog {SMALL}")
    await bot.ack_of(spam)
    assert len(await bot.store.jobs.active_jobs()) == 1

    unknown = api.push_message(chat_id=GROUP, user_id=ADMIN, chat_type="supergroup",
                               text="/admin quota show @nobody_here")
    assert await answer_to(api, unknown) == (
        "Sorry: I have not seen @nobody_here on telegram: they must write to me once, or name "
        "them by numeric id.")

    by_name = api.push_message(chat_id=GROUP, user_id=ADMIN, chat_type="supergroup",
                               text="/admin ban @bob_THE_spammer flooding")
    assert await answer_to(api, by_name) == (
        f"telegram:{BOB} is banned; 1 waiting job cancelled and refunded.")
    assert await bot.store.jobs.active_jobs() == []

    # A reply names the user: the replied-to message's author.
    by_reply = api.push_message(chat_id=GROUP, user_id=ADMIN, chat_type="supergroup",
                                text="/admin quota set 50 --window 7d", reply_to=spam)
    assert await answer_to(api, by_reply) == f"telegram:{BOB} now has 50 credits per 168 h."
    unban = api.push_message(chat_id=GROUP, user_id=ADMIN, chat_type="supergroup",
                             text="/admin unban", reply_to=spam)
    assert (await answer_to(api, unban)).startswith(f"telegram:{BOB}")

    # Not an admin: a bare /admin in a group may be another bot's, and is left alone; one
    # addressed to this bot is refused; neither changes anything.
    bare = api.push_message(chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                            text="/admin ban", reply_to=spam)
    refused = api.push_message(chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                               text=f"/admin@{BOT_USERNAME} ban", reply_to=spam)
    assert await answer_to(api, refused) == replies.ADMIN_ONLY
    with pytest.raises(AssertionError, match="no answer"):
        await answer_to(api, bare, tries=5)
    assert (await bot.store.submissions.quota(UserRef("telegram", str(BOB)))).credits == 50


# -- the Extend button -------------------------------------------------------------------------

EXTENDABLE = "/video a kite --frames 8 --width 64 --height 64 --preset demo"


async def test_the_extend_button_queues_the_clip_continued_for_its_owner_only(
        bot: Bot) -> None:
    api = bot.api
    message = api.push_message(chat_id=GROUP, user_id=ALICE, chat_type="group",
                               text=EXTENDABLE)
    _, job_id = await bot.ack_of(message)
    await render_every_preset(bot.store, bot.config)
    await bot.delivered(job_id)
    [clip_message] = posted_videos(api)

    api.push_callback(user_id=BOB, first_name="Bob", message=clip_message,
                      data=f"extend:{job_id}")
    [refusal] = await api.wait_for("answerCallbackQuery")
    assert refusal.params["show_alert"] is True
    assert refusal.params["text"] == f"Sorry: job #{job_id} belongs to someone else."
    assert await bot.store.jobs.active_jobs() == []

    api.push_callback(user_id=ALICE, message=clip_message, data=f"extend:{job_id}")
    await api.wait_for("answerCallbackQuery", count=2)
    acks = await api.wait_for("sendMessage", count=2)
    assert acks[1].params["reply_parameters"]["message_id"] == clip_message["message_id"]
    extension_id = int(acks[1].params["text"].split("#")[1].split(" ")[0])
    assert replies.extends_line(job_id) in acks[1].params["text"]
    await bot.status_message_id(extension_id)
    await render_every_preset(bot.store, bot.config)
    extension = await bot.delivered(extension_id)
    assert extension.extends == job_id and extension.user == (await bot.job(job_id)).user
    _, video = video_calls(api)
    assert video.params["caption"] == replies.caption(extension)
    assert replies.extends_line(job_id) in video.params["caption"]
    assert decode(video.files["video"]) == ("h264", 64, 64, 8 + 16 - 1)


async def test_the_extend_button_works_after_a_restart_and_on_a_job_that_is_gone(
        api: FakeTelegram, store: Store, config: Config) -> None:
    first = await started_bot(api, store, config)
    try:
        api.push_message(chat_id=ALICE, user_id=ALICE, text=EXTENDABLE)
        [ack] = await api.wait_for("sendMessage")
    finally:
        await first.stop()
    job_id = int(ack.params["text"].split("#")[1].split(" ")[0])
    await render_every_preset(store, config)
    # The buttons' data names the job: any message of the chat will do to press them on.
    under = next(m for m in api.messages.values() if m.get("text", "").startswith("Job #"))

    second = await started_bot(api, store, config)
    try:
        api.push_callback(user_id=ALICE, message=under, data="extend:999")
        [gone] = await api.wait_for("answerCallbackQuery")
        assert gone.params["show_alert"] is True
        assert gone.params["text"] == "Sorry: there is no job #999."
        api.push_callback(user_id=ALICE, message=under, data=f"extend:{job_id}")
        await api.wait_for("answerCallbackQuery", count=2)
        again = (await api.wait_for("sendMessage", count=2))[1]
    finally:
        await second.stop()
    assert again.params["text"].startswith(f"Job #{job_id + 1} queued")
    assert (await store.jobs.require(job_id + 1)).extends == job_id
