"""`videobot worker`: one generator process, with its signals and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

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


async def run_worker(config: Config, *, device: str, burst: bool = False) -> int:
    """Serve jobs until SIGTERM/SIGINT (or the queue is empty with `burst`). Returns the number
    of jobs processed. The first signal stops claiming and lets the job in hand finish within
    `worker.shutdown_grace_seconds`, then releases it; a second signal exits at once."""
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
    signals_seen = 0

    def on_signal() -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            log.warning("second stop signal: exiting now; the job in hand returns on lease expiry")
            os._exit(1)
        log.info("stop signal: finishing the job in hand, claiming no more")
        worker.request_stop()
        loop.call_later(config.worker.shutdown_grace_seconds, worker.abandon_current)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
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
        await _say_stopped(registry, worker.worker_id)
        backends.close()
        await close_store(store)


async def _say_stopped(registry: WorkerRegistry, worker_id: str) -> None:
    """Mark this worker stopped, if the database can be reached: a failure here must not
    hide the error that ended the worker, nor keep its connections open."""
    try:
        await registry.beat(worker_id, status=WorkerRegistry.STOPPED, current_job_id=None)
    except DATABASE_UNAVAILABLE as exc:
        if not is_unavailable(exc):
            raise
        log.warning("could not mark worker %s stopped (database unreachable)", worker_id)


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
