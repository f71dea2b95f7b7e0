"""The adapters' shared progress throttle and their "edit, or repost if gone" helper, on a real
event loop with a recording platform in place of Telegram or Discord."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import pytest

from bot.adapters.progress import ProgressThrottle
from bot.adapters.status_message import edit_or_repost

INTERVAL = 0.2
#: Slack for "at once" under a loaded machine; still well under one interval.
PROMPTLY = INTERVAL / 2


@dataclass
class Platform:
    """Records what was sent, and when; `rests` says what each send asks for (default the
    interval), `gate` holds a send until set."""

    sent: list[tuple[str, str, float]] = field(default_factory=list)
    rests: dict[str, float] = field(default_factory=dict)
    gate: asyncio.Event | None = None

    async def send(self, item: tuple[str, int, str]) -> float:
        lane, _, text = item
        self.sent.append((lane, text, time.monotonic()))
        if self.gate is not None:
            await self.gate.wait()
        if text == "boom":
            raise RuntimeError("the platform broke")
        return self.rests.get(text, INTERVAL)

    def texts(self, lane: str | None = None) -> list[str]:
        return [text for sent_lane, text, _ in self.sent if lane in (None, sent_lane)]

    def at(self, text: str) -> float:
        return next(at for _, sent_text, at in self.sent if sent_text == text)


@pytest.fixture
async def platform() -> Platform:
    return Platform()


def throttled(platform: Platform) -> ProgressThrottle[str, tuple[str, int, str]]:
    return ProgressThrottle(INTERVAL, platform.send)


def offer(throttle: ProgressThrottle[str, tuple[str, int, str]], lane: str, job_id: int,
          text: str) -> None:
    throttle.offer(lane, job_id, (lane, job_id, text))


async def until_sent(platform: Platform, count: int, within: float = 3.0) -> None:
    """Wait until `count` sends happened."""
    deadline = time.monotonic() + within
    while len(platform.sent) < count:
        assert time.monotonic() < deadline, platform.sent
        await asyncio.sleep(0.01)


async def settled(platform: Platform, count: int, within: float = 3.0) -> None:
    """Wait until `count` sends happened, then one more interval (nothing else may come)."""
    await until_sent(platform, count, within)
    await asyncio.sleep(INTERVAL * 1.5)


async def test_only_the_latest_text_is_sent_and_at_most_once_per_interval(
        platform: Platform) -> None:
    throttle = throttled(platform)
    started = time.monotonic()
    for step in range(3):
        offer(throttle, "chat", 1, f"step {step}")
    await until_sent(platform, 1)
    offer(throttle, "chat", 1, "step 3")  # while the lane rests
    offer(throttle, "chat", 1, "step 4")
    await settled(platform, 2)
    assert platform.texts() == ["step 2", "step 4"]
    assert platform.at("step 2") - started < PROMPTLY
    assert platform.at("step 4") - platform.at("step 2") >= INTERVAL - 0.01
    await throttle.close()


async def test_lanes_do_not_wait_for_each_other_and_a_lanes_jobs_take_turns(
        platform: Platform) -> None:
    throttle = throttled(platform)
    offer(throttle, "alice", 1, "a1")
    offer(throttle, "alice", 2, "a2")
    offer(throttle, "bob", 3, "b3")
    await settled(platform, 3)
    assert platform.texts("alice") == ["a1", "a2"]
    assert platform.texts("bob") == ["b3"]
    assert platform.at("b3") - platform.at("a1") < PROMPTLY  # bob's lane did not wait
    assert platform.at("a2") - platform.at("a1") >= INTERVAL - 0.01
    await throttle.close()


async def test_a_lane_rests_as_long_as_the_send_asks(platform: Platform) -> None:
    platform.rests["flood"] = 3 * INTERVAL  # as after a RetryAfter
    throttle = throttled(platform)
    offer(throttle, "chat", 1, "flood")
    await asyncio.sleep(0.01)
    offer(throttle, "chat", 1, "after")
    await settled(platform, 2)
    assert platform.at("after") - platform.at("flood") >= 3 * INTERVAL - 0.01
    await throttle.close()


async def test_a_text_offered_again_is_sent_after_the_rest_unless_a_newer_one_waits(
        platform: Platform) -> None:
    refused_once = {"retry me", "newer comes"}

    async def refuse_once(item: tuple[str, int, str]) -> float:
        """As an adapter whose platform said "not now": the text goes back in line."""
        lane, job_id, text = item
        if text in refused_once:
            refused_once.remove(text)
            throttle.offer_again(lane, job_id, item)
            if text == "newer comes":
                offer(throttle, lane, job_id, "newest")
        return await platform.send(item)

    throttle: ProgressThrottle[str, tuple[str, int, str]] = ProgressThrottle(
        INTERVAL, refuse_once)
    offer(throttle, "chat", 1, "retry me")
    await settled(platform, 2)
    offer(throttle, "chat", 1, "newer comes")
    await settled(platform, 4)
    assert platform.texts() == ["retry me", "retry me", "newer comes", "newest"]
    await throttle.close()


async def test_withdraw_drops_the_waiting_text_and_waits_for_the_send_under_way(
        platform: Platform) -> None:
    platform.gate = asyncio.Event()
    throttle = throttled(platform)
    offer(throttle, "chat", 1, "under way")
    offer(throttle, "chat", 2, "other job")
    await settled(platform, 1, within=1.0)
    offer(throttle, "chat", 1, "waiting")
    withdrawn = asyncio.create_task(throttle.withdraw("chat", 1))
    await asyncio.sleep(0.05)
    assert not withdrawn.done()  # job 1's send is still under way
    platform.gate.set()
    await withdrawn
    await settled(platform, 2)
    assert platform.texts() == ["under way", "other job"]  # "waiting" never went
    await throttle.close()


async def test_a_failing_send_is_logged_and_the_lane_goes_on(
        platform: Platform, caplog: pytest.LogCaptureFixture) -> None:
    throttle = throttled(platform)
    with caplog.at_level(logging.ERROR, logger="bot.adapters.progress"):
        offer(throttle, "chat", 1, "boom")
        offer(throttle, "chat", 2, "fine")
        await settled(platform, 2)
    assert platform.texts() == ["boom", "fine"]
    assert "a progress update of job 1 failed" in caplog.text
    assert "the platform broke" in caplog.text  # with its traceback
    await throttle.close()


async def test_a_lane_that_rested_sends_its_next_text_at_once(platform: Platform) -> None:
    throttle = throttled(platform)
    offer(throttle, "chat", 1, "first")
    await settled(platform, 1)  # sent, then rested a whole interval with nothing to send
    offered = time.monotonic()
    offer(throttle, "chat", 1, "second")
    await settled(platform, 2)
    assert platform.at("second") - offered < PROMPTLY
    await throttle.close()


async def test_close_stops_every_lane(platform: Platform) -> None:
    platform.gate = asyncio.Event()  # the first send never ends
    throttle = throttled(platform)
    offer(throttle, "alice", 1, "stuck")
    offer(throttle, "alice", 2, "never")
    await settled(platform, 1, within=1.0)
    await asyncio.wait_for(throttle.close(), 1.0)
    offer(throttle, "bob", 3, "after close")  # a new lane still works
    await settled(platform, 2)
    assert platform.texts() == ["stuck", "after close"]
    await throttle.close()


# -- edit, or repost when gone ----------------------------------------------------------------


class Gone(Exception):
    """The platform's "there is no such message"."""


@dataclass
class Chat:
    """Messages by id; editing a missing one raises `Gone`; `refuse` fails every edit."""

    messages: dict[int, str] = field(default_factory=dict)
    remembered: list[int] = field(default_factory=list)
    refuse: Exception | None = None

    async def edit(self, message_id: int, text: str) -> None:
        if self.refuse is not None:
            raise self.refuse
        if message_id not in self.messages:
            raise Gone(message_id)
        self.messages[message_id] = text

    async def post(self, text: str) -> int:
        message_id = max(self.messages, default=0) + 1
        self.messages[message_id] = text
        return message_id

    async def remember(self, message_id: int) -> None:
        self.remembered.append(message_id)

    async def show(self, message_id: int | None, text: str) -> int:
        return await edit_or_repost(
            message_id, edit=lambda mid: self.edit(mid, text), post=lambda: self.post(text),
            is_gone=lambda exc: isinstance(exc, Gone), remember=self.remember)


async def test_a_status_message_that_exists_is_edited() -> None:
    chat = Chat({7: "queued"})
    assert await chat.show(7, "rendering") == 7
    assert chat.messages == {7: "rendering"} and chat.remembered == []


async def test_a_gone_status_message_is_posted_again_and_its_id_remembered() -> None:
    chat = Chat({3: "someone else's"})
    new_id = await chat.show(7, "rendering")
    assert new_id == 4 and chat.messages[4] == "rendering"
    assert chat.remembered == [4]
    assert await chat.show(new_id, "done") == 4  # the next edit goes to the new message
    assert chat.messages == {3: "someone else's", 4: "done"}


async def test_a_job_without_a_status_message_gets_one() -> None:
    chat = Chat()
    assert await chat.show(None, "rendering") == 1
    assert chat.messages == {1: "rendering"} and chat.remembered == [1]


async def test_any_other_refusal_goes_up_and_posts_nothing() -> None:
    chat = Chat({7: "queued"}, refuse=PermissionError("blocked"))
    with pytest.raises(PermissionError):
        await chat.show(7, "rendering")
    assert chat.messages == {7: "queued"} and chat.remembered == []


async def test_without_remember_the_new_id_is_only_returned() -> None:
    chat = Chat()
    shown = await edit_or_repost(7, edit=lambda mid: chat.edit(mid, "final"),
                                 post=lambda: chat.post("final"),
                                 is_gone=lambda exc: isinstance(exc, Gone))
    assert shown == 1 and chat.messages == {1: "final"} and chat.remembered == []
