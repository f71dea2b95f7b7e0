"""`videobot run`: the bot process — adapters, the delivery loop and the worker supervisor."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TextIO

from bot.adapters.base import ChatAdapter
from bot.adapters.console import ConsoleAdapter
from bot.core.commands import Core
from bot.core.serving import local_worker_presets
from bot.delivery import DeliveryLoop
from bot.maintenance import run_maintenance
from bot.supervisor import WorkerSupervisor
from storage.connect import close_store, open_store
from storage.jobs import JobStore
from videobot.config import Config

log = logging.getLogger(__name__)


async def run_bot(config: Config, *, config_path: Path | None, stdin: TextIO | None = None,
                  start_workers: bool = True) -> int:
    """Run until a stop signal, or, with the console chat, until its input ends and its jobs
    are delivered. Returns the exit code."""
    store = await open_store(config)
    # The bot takes bursts of submissions; a worker or a shell command has no use for this.
    await store.warm_up()
    core = Core(store=store, config=config,
                local_presets=local_worker_presets(config) if start_workers else None)
    adapters: dict[str, ChatAdapter] = {}
    console = None
    if config.console.enabled:
        console = ConsoleAdapter(core=core, store=store, user_name=config.console.user,
                                 stdin=stdin)
        adapters[console.platform] = console
    adapters.update(_chat_adapters(config, core, store))
    supervisor = WorkerSupervisor(config=config, config_path=config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if start_workers:
        await supervisor.start()
    started: list[ChatAdapter] = []
    try:
        for adapter in adapters.values():
            await adapter.start()
            started.append(adapter)
    except BaseException:
        await _stop_all(started)
        await supervisor.stop()
        await close_store(store)
        raise
    delivery = DeliveryLoop(store=store, adapters=adapters, clips_dir=config.data_dir / "clips",
                            poll_interval=min(0.5, config.queue.poll_interval_seconds))
    tasks = [asyncio.create_task(delivery.run(stop), name="delivery"),
             asyncio.create_task(run_maintenance(store, config, stop), name="maintenance")]
    if console is not None:
        tasks.append(asyncio.create_task(_then_stop(console.run(), stop), name="console"))
    log.info("videobot running: adapters %s, workers on %s", sorted(adapters),
             ", ".join(config.worker.devices) if start_workers else "none (started elsewhere)")
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _stop_all(started)
        await supervisor.stop()
        await close_store(store)
    return 0


def _chat_adapters(config: Config, core: Core, store: JobStore) -> dict[str, ChatAdapter]:
    """The platform adapters the config turns on, and the HTTP API; each library is imported
    only when used."""
    adapters: dict[str, ChatAdapter] = {}
    work_dir = config.data_dir / "uploads"
    if config.telegram is not None:
        from bot.adapters.telegram import TelegramAdapter

        adapters["telegram"] = TelegramAdapter(core=core, store=store, config=config.telegram,
                                               work_dir=work_dir)
    if config.discord is not None:
        from bot.adapters.discord import DiscordAdapter

        adapters["discord"] = DiscordAdapter(core=core, store=store, config=config.discord,
                                             work_dir=work_dir)
    if config.api is not None:
        from bot.web.front_door import ApiFrontDoor, web_extras

        adapters["api"] = ApiFrontDoor(core=core, api=config.api,
                                       more_groups=web_extras(core, config.api))
    return adapters


async def _stop_all(adapters: list[ChatAdapter]) -> None:
    for adapter in reversed(adapters):
        try:
            await adapter.stop()
        except Exception:
            log.exception("stopping the %s adapter failed", adapter.platform)


async def _then_stop(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    try:
        await work
    except Exception:
        log.exception("the console chat failed")
    finally:
        stop.set()
