"""`videobot worker`: one generator process, with its signals and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable

from generator.backends.loader import ResidentBackend
from generator.device_memory import device_memory
from generator.worker import Worker
from storage.connect import close_store, open_store
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.workers import WorkerRegistry
from videobot import __version__
from videobot.config import Config

log = logging.getLogger(__name__)


def worker_id_for(device: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{device}"


#: How often a worker told to hand its job back checks that no job is in hand any more (a
#: claim under way when the word came finishes after it).
HAND_BACK_EVERY_S = 0.1


async def run_worker(config: Config, *, device: str, burst: bool = False,
                     supervised: bool = False) -> int:
    """Serve jobs until SIGTERM/SIGINT (or the queue is empty with `burst`). Returns the number
    of jobs processed. The first signal stops claiming and lets the job in hand finish within
    `worker.shutdown_grace_seconds`, then releases it; a second signal exits at once.

    `supervised` (a worker of `videobot run`): standard input is a pipe from the supervisor,
    and its end (the supervisor stopping, or killed) stops the worker at once, handing the job
    in hand back to the queue; so a worker never outlives its bot."""
    store = await open_store(config)
    backends = ResidentBackend(device=device, models_dir=config.data_dir / "models")
    worker = Worker(
        store=store,
        config=config,
        backends=backends,
        worker_id=worker_id_for(device),
        clips_dir=config.data_dir / "clips",
    )
    registry = WorkerRegistry(store.engine, clock=store.clock)
    await registry.register(worker_id=worker.worker_id, host=socket.gethostname(),
                            pid=os.getpid(), device=device, presets=worker.claimable_presets(),
                            version=__version__)
    ready = asyncio.Event()
    stop_beating = asyncio.Event()
    beating = asyncio.create_task(
        _beat(registry, worker, ready, config.queue.heartbeat_seconds, stop_beating)
    )
    loop = asyncio.get_running_loop()
    _stop_on_signals(loop, worker, config.worker.shutdown_grace_seconds)
    hand_back = _HandBack(worker)
    if supervised:
        _watch_for_end_of_input(loop, hand_back.start)
    try:
        await worker.prepare()
        ready.set()
        await _report(registry, worker, WorkerRegistry.READY)  # the model it holds, at once
        log.info("worker %s ready on %s", worker.worker_id, device)
        return await worker.run(burst=burst)
    finally:
        # Told to stop, not cancelled mid-write (see Worker.process).
        stop_beating.set()
        await asyncio.gather(beating, return_exceptions=True)
        hand_back.cancel()
        await _say_gone(registry, worker.worker_id)
        backends.close()
        await close_store(store)


async def _say_gone(registry: WorkerRegistry, worker_id: str) -> None:
    """Mark this worker gone, if the database can be reached: a failure here must not hide
    the error that ended the worker, nor keep its connections open."""
    try:
        await registry.beat(worker_id, status=WorkerRegistry.GONE, current_job_id=None)
    except DATABASE_UNAVAILABLE as exc:
        if not is_unavailable(exc):
            raise
        log.warning("could not mark worker %s gone (database unreachable)", worker_id)


def _watch_for_end_of_input(loop: asyncio.AbstractEventLoop,
                            on_end: Callable[[], None]) -> None:
    """Call `on_end` on the loop once standard input ends. The supervisor never writes to
    the pipe; its end comes when the supervisor closes it or dies, even by SIGKILL."""

    def read_until_end() -> None:
        fd = sys.stdin.fileno()
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        with contextlib.suppress(RuntimeError):  # the loop closed: the worker is exiting
            loop.call_soon_threadsafe(on_end)

    threading.Thread(target=read_until_end, name="supervisor-pipe", daemon=True).start()


def _stop_on_signals(loop: asyncio.AbstractEventLoop, worker: Worker, grace: float) -> None:
    """SIGTERM, SIGINT: stop claiming, let the job in hand finish within `grace` seconds, then
    release it; a second signal exits at once."""
    seen = 0

    def on_signal() -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            log.warning("second stop signal: exiting now; the job in hand returns on lease expiry")
            os._exit(1)
        log.info("stop signal: finishing the job in hand, claiming no more")
        worker.request_stop()
        loop.call_later(grace, worker.abandon_current)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)


class _HandBack:
    """The stop a supervisor asks for: claim no more and give the job in hand back at once (a
    release: the attempt does not count), with any job claimed while the word was on its way."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        log.info("the supervisor stopped or is gone: handing the job in hand back, exiting")
        self.worker.request_stop()
        self.task = asyncio.create_task(self._interrupt_until_cancelled())

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _interrupt_until_cancelled(self) -> None:
        while True:
            self.worker.abandon_current()
            await asyncio.sleep(HAND_BACK_EVERY_S)


async def _beat(registry: WorkerRegistry, worker: Worker, ready: asyncio.Event,
                seconds: float, stop: asyncio.Event) -> None:
    """Tell the registry this worker lives, every `seconds`, idle or busy, until `stop`."""
    while not stop.is_set():
        if not ready.is_set():
            status = WorkerRegistry.STARTING
        else:
            status = WorkerRegistry.BUSY if worker.current_job_id else WorkerRegistry.READY
        try:
            await _report(registry, worker, status)
        except Exception:
            log.warning("worker heartbeat failed; retrying", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _report(registry: WorkerRegistry, worker: Worker, status: str) -> None:
    """One heartbeat: the status, the job in hand, the model loaded, the device's memory."""
    # In a thread: the first look at a CUDA device may initialise its driver.
    memory = await asyncio.to_thread(device_memory, worker.backends.device)
    await registry.beat(worker.worker_id, status=status, current_job_id=worker.current_job_id,
                        loaded_preset=worker.backends.preset or "", memory=memory)
