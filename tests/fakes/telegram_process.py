"""The Bot API fake (`FakeTelegram`) in a process of its own, for benchmarks.

In production Telegram's servers are elsewhere; a fake sharing the bot's process and event
loop would compete with the bot for both (parsing every request, answering in JSON). Here
`python -m tests.fakes.telegram_process` serves the fake on 127.0.0.1 and takes commands,
one JSON object a line, on stdin, answering each on stdout:

- `{"op": "push", "messages": [push_message keywords, ...]}`: pushes them all at once;
  answers `{"pushed": [[chat id, message id, available at], ...]}`.
- `{"op": "replies", "expected": [[chat id, message id], ...], "prefix": str, "within": s}`:
  waits until each expected message got a `sendMessage` reply starting with `prefix`, or
  `within` seconds passed; answers `{"replies": [[chat id, message id, arrived at], ...]}`.
- `{"op": "stop"}` (or the end of stdin): stops the server and exits.

Every time is the fake's own `time.monotonic()`, taken in that process: when an update was
put where `getUpdates` serves it, and when a reply's request reached the fake (`Call.at`).
`FakeTelegramProcess` is the parent's side; `push_messages` and `wait_for_replies` do the
same with an in-process `FakeTelegram`, so both ways measure alike.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent.parent
#: A line holds up to a few hundred messages; asyncio's 64 KiB default is too small.
LINE_LIMIT = 2**24
POLL_S = 0.05
STOP_WAIT_S = 10.0

#: (chat id, message id): a user's message, or the message a reply answers.
Key = tuple[int, int]


def push_messages(api: FakeTelegram, messages: list[dict[str, Any]]) -> dict[Key, float]:
    """Push every message at once (`push_message` keywords); returns when each became
    available to `getUpdates`, by (chat id, message id)."""
    pushed: dict[Key, float] = {}
    for keywords in messages:
        message = api.push_message(**keywords)
        pushed[(message["chat"]["id"], message["message_id"])] = time.monotonic()
    return pushed


async def wait_for_replies(api: FakeTelegram, expected: set[Key], prefix: str,
                           within: float) -> dict[Key, float]:
    """When the first `sendMessage` replying to each expected message with a text starting
    with `prefix` reached the fake, by (chat id, message id); gives up after `within` s."""
    deadline = time.monotonic() + within
    replies: dict[Key, float] = {}
    seen = 0
    while True:
        calls = api.calls[seen:]
        seen += len(calls)
        for call in calls:
            reply_to = call.params.get("reply_parameters")
            if call.method != "sendMessage" or not isinstance(reply_to, dict):
                continue
            key = (int(call.params["chat_id"]), int(reply_to["message_id"]))
            if key in expected and str(call.params.get("text", "")).startswith(prefix):
                replies.setdefault(key, call.at)
        if len(replies) >= len(expected) or time.monotonic() >= deadline:
            return replies
        await asyncio.sleep(POLL_S)


class FakeTelegramProcess:
    """The fake in a child process. Use as `async with FakeTelegramProcess() as api:`;
    `api.base_url` and `api.token` are what the bot must use."""

    def __init__(self) -> None:
        self.token = ""
        self.port = 0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeTelegramProcess:
        before = time.monotonic()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.fakes.telegram_process", cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=LINE_LIMIT)
        hello = await self._answer()
        check_shared_clock(before, float(hello["now"]), time.monotonic())
        self.token, self.port = str(hello["token"]), int(hello["port"])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            assert process.stdin is not None
            process.stdin.write(b'{"op": "stop"}\n')
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), STOP_WAIT_S)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def push_messages(self, messages: list[dict[str, Any]]) -> dict[Key, float]:
        """As `push_messages`, in the fake's process (and by its clock)."""
        answer = await self._ask({"op": "push", "messages": messages})
        return {(int(chat), int(message)): float(at) for chat, message, at in answer["pushed"]}

    async def wait_for_replies(self, expected: set[Key], prefix: str,
                               within: float) -> dict[Key, float]:
        """As `wait_for_replies`, in the fake's process (and by its clock)."""
        answer = await self._ask({"op": "replies", "expected": sorted(expected),
                                  "prefix": prefix, "within": within})
        return {(int(chat), int(message)): float(at)
                for chat, message, at in answer["replies"]}

    async def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()
        return await self._answer()

    async def _answer(self) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError("the Bot API fake's process ended "
                               f"(exit status {await self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer


def check_shared_clock(before: float, child: float, after: float) -> None:
    """The child's `time.monotonic()` must fall between two readings of ours: on Linux it
    is CLOCK_MONOTONIC, one clock for the whole machine, so both processes' times compare."""
    if not before <= child <= after:
        raise RuntimeError(f"the fake's monotonic clock ({child:.6f}) is not the bench's "
                           f"({before:.6f}..{after:.6f}): their times do not compare")


async def serve() -> None:
    """The child: run the fake and answer commands from stdin until told to stop."""
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    async with FakeTelegram() as api:
        _say({"port": api.port, "token": api.token, "now": time.monotonic()})
        while line := await commands.readline():
            command = json.loads(line)
            if command["op"] == "stop":
                break
            _say(await _run(api, command))


async def _run(api: FakeTelegram, command: dict[str, Any]) -> dict[str, Any]:
    if command["op"] == "push":
        pushed = push_messages(api, command["messages"])
        return {"pushed": [[*key, at] for key, at in pushed.items()]}
    if command["op"] == "replies":
        expected = {(int(chat), int(message)) for chat, message in command["expected"]}
        replies = await wait_for_replies(api, expected, command["prefix"],
                                         float(command["within"]))
        return {"replies": [[*key, at] for key, at in replies.items()]}
    raise ValueError(f"unknown command {command['op']!r}")


def _say(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(serve())
