"""`videobot run`: the bot process — front doors, the delivery loop and the worker supervisor."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from pathlib import Path
from typing import TextIO

from bot.adapters.base import ChatAdapter, FrontDoor
from bot.adapters.console import ConsoleAdapter
from bot.core import replies
from bot.core.commands import Core
from bot.core.serving import local_worker_presets
from bot.delivery import DeliveryLoop
from bot.maintenance import run_maintenance
from bot.posted import JOURNAL_FILE, PostedJournal
from bot.supervisor import WorkerSupervisor
from storage.connect import close_store, open_store
from storage.store import Store
from videobot.config import Config

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def run_bot(config: Config, *, config_path: Path | None, stdin: TextIO | None = None,
                  start_workers: bool = True) -> int:
    """Run until a stop signal or, when the console chat is the only front door, until its
    input ends and its jobs are delivered (or `/quit`). Returns the exit code. A second stop
    signal exits at once."""
    store = await open_store(config)
    # The bot takes bursts of submissions; a worker or a shell command has no use for this.
    await store.submissions.warm_up()
    core = Core(store=store, config=config,
                local_presets=local_worker_presets(config) if start_workers else None)
    adapters: dict[str, ChatAdapter] = {}
    console = None
    if config.console.enabled:
        console = ConsoleAdapter(core=core, store=store, user_name=config.console.user,
                                 stdin=stdin)
        adapters[console.platform] = console
    journal = PostedJournal(config.data_dir / JOURNAL_FILE)
    adapters.update(_chat_adapters(config, core, store, journal))
    # Every way commands come in. Each is started and stopped here, and the console's end of
    # input ends the bot only while it is the only one: a front door added here (a web
    # server) keeps the bot running when the console has no terminal.
    front_doors: list[FrontDoor] = list(adapters.values())
    supervisor = WorkerSupervisor(config=config, config_path=config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, _on_stop_signal, sig, stop)
    if start_workers:
        await supervisor.start()
    started: list[FrontDoor] = []
    try:
        for door in front_doors:
            await door.start()
            started.append(door)
    except BaseException:
        await _stop_all(started)
        await supervisor.stop()
        await close_store(store)
        raise
    # What start-up made (modules, config, clients) lives as long as the process: out of the
    # collector's full passes, which would otherwise stop the event loop for tens of ms (about
    # 60 in a burst of API requests, for the 130,000 objects the imports alone make).
    gc.freeze()
    delivery = DeliveryLoop(store=store, adapters=adapters, clips_dir=config.data_dir / "clips",
                            poll_interval=min(0.5, config.queue.poll_interval_seconds),
                            presets=config.presets, journal=journal)
    tasks = [asyncio.create_task(delivery.run(stop), name="delivery"),
             asyncio.create_task(run_maintenance(store, config, stop), name="maintenance")]
    if console is not None:
        tasks.append(asyncio.create_task(_run_console(console, front_doors, stop),
                                         name="console"))
    log.info("videobot running: adapters %s, workers on %s", sorted(adapters),
             ", ".join(config.worker.devices) if start_workers else "none (started elsewhere)")
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _stop_all(started)
        await supervisor.stop()
        await close_store(store)
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    return 0


def _chat_adapters(config: Config, core: Core, store: Store,
                   journal: PostedJournal) -> dict[str, ChatAdapter]:
    """The platform adapters the config turns on, and the HTTP API; each library is imported
    only when used. The chats write what they post to `journal`, the delivery loop's."""
    adapters: dict[str, ChatAdapter] = {}
    work_dir = config.data_dir / "uploads"
    if config.telegram is not None:
        from bot.adapters.telegram import TelegramAdapter

        adapters["telegram"] = TelegramAdapter(core=core, store=store, config=config.telegram,
                                               work_dir=work_dir, journal=journal)
    if config.discord is not None:
        from bot.adapters.discord import DiscordAdapter

        adapters["discord"] = DiscordAdapter(core=core, store=store, config=config.discord,
                                             work_dir=work_dir, journal=journal)
    if config.api is not None:
        from bot.web.front_door import ApiFrontDoor, web_extras

        adapters["api"] = ApiFrontDoor(core=core, api=config.api,
                                       more_groups=web_extras(core, config.api))
    return adapters


def _on_stop_signal(signum: int, stop: asyncio.Event) -> None:
    """The first stop signal (Ctrl-C, SIGTERM) stops gracefully: the workers hand their jobs
    back and the bot exits within the grace period. A second one exits at once."""
    if stop.is_set():
        log.warning("second stop signal: exiting now")
        os._exit(128 + signum)
    log.info("stop signal: stopping (a second one exits at once)")
    stop.set()


async def _stop_all(doors: list[FrontDoor]) -> None:
    for door in reversed(doors):
        try:
            await door.stop()
        except Exception:
            log.exception("stopping %s failed", _name(door))


async def _run_console(console: ConsoleAdapter, front_doors: list[FrontDoor],
                       stop: asyncio.Event) -> None:
    """The console chat, until its input ends or `/quit`: then the bot stops if the console
    was its only front door; otherwise the others go on (a service has no terminal)."""
    try:
        await console.run()
    except Exception:
        log.exception("the console chat failed")
    others = [_name(door) for door in front_doors if door is not console]
    if others:
        log.info("the console chat has ended; still serving: %s", ", ".join(others))
        console.say(replies.console_closed(others))
    else:
        stop.set()


def _name(door: FrontDoor) -> str:
    return str(getattr(door, "platform", type(door).__name__))
