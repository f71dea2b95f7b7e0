"""The wake-up signal on both databases: a notify reaches a waiting listener at once."""

from __future__ import annotations

import asyncio
import os
import socket

from storage.store import Store
from storage.wakeup import EVENTS, JOBS
from videobot.params import RenderRequest
from videobot.users import UserRef

REQUEST = RenderRequest(prompt="a ball", negative_prompt="", frames=8, fps=8, width=32,
                        height=32, steps=2, guidance=1.0, seed=1, preset="tiny")


async def test_enqueue_wakes_a_waiting_listener(store: Store) -> None:
    async with store.signals.listener(JOBS) as listener:
        await asyncio.sleep(0.2)  # let a LISTEN connection settle
        await listener.wait(0.01)  # drain the "look now" of a fresh connection
        waiter = asyncio.create_task(listener.wait(30))
        await asyncio.sleep(0.05)
        await store.submissions.enqueue(UserRef("console", "a"), REQUEST, max_queued_per_user=5)
        assert await asyncio.wait_for(waiter, 10) is True


async def test_a_silent_channel_times_out_and_poke_wakes_it(store: Store) -> None:
    async with store.signals.listener(EVENTS) as listener:
        await asyncio.sleep(0.2)
        await listener.wait(0.01)
        assert await listener.wait(0.1) is False
        listener.poke()
        assert await listener.wait(5) is True


async def test_a_dead_listeners_registration_is_cleaned_up(store: Store) -> None:
    folder = store.signals.folder
    if folder is None:
        return  # PostgreSQL keeps no registrations on disk
    (folder / JOBS).mkdir(parents=True, exist_ok=True)
    stale = folder / JOBS / "999999999-9"
    stale.touch()
    await store.signals.notify(JOBS)
    assert not stale.exists()


async def test_submissions_committed_together_wake_the_workers_once(store: Store) -> None:
    folder = store.signals.folder
    if folder is None:
        return  # PostgreSQL commits each submission alone, and notifies for each
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as worker:
        worker.bind(("127.0.0.1", 0))
        worker.settimeout(0.5)
        (folder / JOBS).mkdir(parents=True, exist_ok=True)
        (folder / JOBS / f"{os.getpid()}-{worker.getsockname()[1]}").touch()
        jobs = await asyncio.gather(*(
            store.submissions.enqueue(UserRef("console", str(n)), REQUEST, max_queued_per_user=5)
            for n in range(20)))
        assert len({job.id for job in jobs}) == 20
        signals = []
        try:
            while True:
                signals.append(worker.recv(64))
        except TimeoutError:
            pass
    assert signals == [b"!"]
