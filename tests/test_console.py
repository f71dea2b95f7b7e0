"""The console chat as a person meets it: on a real terminal (a pseudo-terminal), a line that
says it is ready and how to leave, `/quit` and `/exit`, and one final word per job."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.core import replies
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from storage.store import Store
from tests.processes import command, environment
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)


def read_until(fd: int, wanted: str, seconds: float) -> str:
    """What the terminal shows until `wanted` appears in it."""
    shown = ""
    deadline = time.monotonic() + seconds
    while wanted not in shown:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{wanted!r} did not appear; the terminal shows:\n{shown}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                shown += os.read(fd, 4096).decode(errors="replace")
            except OSError:  # the other end closed: the process is gone
                raise AssertionError(
                    f"{wanted!r} did not appear before the end:\n{shown}") from None
    return shown


def test_on_a_terminal_it_says_it_is_ready_and_how_to_leave(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    bot = subprocess.Popen(command("run", "--no-workers", data_dir=tmp_path / "d", config=None),
                           stdin=terminal, stdout=terminal, stderr=subprocess.DEVNULL,
                           cwd=Path(__file__).resolve().parent.parent, env=environment())
    os.close(terminal)
    try:
        read_until(controller, replies.CONSOLE_READY, 60)
        os.write(controller, b"/help\n")
        shown = read_until(controller, "/quit, /exit", 30)
        assert "/video <prompt> [options]" in shown
        os.write(controller, b"/quit\n")
        read_until(controller, "Bye.", 30)
        assert bot.wait(30) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait(30)
        os.close(controller)


@pytest.mark.parametrize("word", ["/quit", "/exit", "/QUIT"])
async def test_quit_leaves_at_once_and_says_what_waits(store: Store, config: Config,
                                                       word: str) -> None:
    said: list[str] = []
    typed = f"/video a red ball\n{word}\n/video never read\n"
    console = ConsoleAdapter(core=Core(store=store, config=config), store=store,
                             user_name="alice", stdin=io.StringIO(typed), write=said.append)
    # No worker: the job is never delivered, and /quit does not wait for it.
    await asyncio.wait_for(console.run(), 10)
    assert said[0].startswith("Job #1 queued")
    assert said[1:] == ["Bye. 1 job of yours not delivered yet: the next start delivers them."]


async def test_a_job_cancelled_before_it_ran_is_told_once(store: Store,
                                                          config: Config) -> None:
    said: list[str] = []
    answered = asyncio.Event()

    def say(text: str) -> None:
        said.append(text)
        if len(said) == 2:
            answered.set()

    console = ConsoleAdapter(core=Core(store=store, config=config), store=store,
                             user_name="alice", stdin=io.StringIO("/video a ball\n/cancel\n"),
                             write=say)
    delivery = DeliveryLoop(store=store, adapters={"console": console},
                            clips_dir=config.data_dir / "clips")
    running = asyncio.create_task(console.run())
    await asyncio.wait_for(answered.wait(), 10)
    await delivery.tick()  # delivers the cancelled job: nothing more to say about it
    await asyncio.wait_for(running, 10)
    assert said[1] == "Job #1 cancelled; 1 credit refunded."
    assert len(said) == 2
    assert (await store.jobs.require(1)).delivered_at is not None
