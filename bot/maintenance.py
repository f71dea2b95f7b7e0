"""Housekeeping the bot process does on a timer: end jobs whose worker died for good, delete
old clips, forget workers that exited or went silent a while ago."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from storage.retention import prune_clips
from storage.store import Store
from storage.workers import WorkerRegistry
from videobot.config import Config

log = logging.getLogger(__name__)

EXPIRE_EVERY_S = 5.0
PRUNE_EVERY_S = 3600.0
PRUNE_WORKERS_EVERY_S = 60.0
#: A worker that exited is listed (as gone) this long, one that went silent (lost) this long.
FORGET_GONE_WORKERS_AFTER = timedelta(hours=1)
FORGET_LOST_WORKERS_AFTER = timedelta(days=1)


async def run_maintenance(store: Store, config: Config, stop: asyncio.Event) -> None:
    """Until `stop`: expire leases every few seconds; forget old workers every minute;
    prune clips hourly."""
    last_prune = last_workers = float("-inf")
    registry = WorkerRegistry(store.engine, clock=store.clock)
    while not stop.is_set():
        try:
            await store.leases.expire_leases()
            if time.monotonic() - last_workers >= PRUNE_WORKERS_EVERY_S:
                last_workers = time.monotonic()
                await registry.prune(gone_for=FORGET_GONE_WORKERS_AFTER,
                                     silent_for=FORGET_LOST_WORKERS_AFTER)
            if time.monotonic() - last_prune >= PRUNE_EVERY_S:
                last_prune = time.monotonic()
                await prune_once(store, config)
        except Exception:
            log.exception("maintenance failed; trying again")
        try:
            await asyncio.wait_for(stop.wait(), EXPIRE_EVERY_S)
        except TimeoutError:
            pass


async def prune_once(store: Store, config: Config) -> None:
    report = await prune_clips(
        store.context, keep_days=config.storage.keep_clips_days,
        drop_delivered_hours=config.storage.drop_delivered_clip_data_hours,
        clips_dir=config.data_dir / "clips",
    )
    if (report.clip_rows or report.files or report.data_dropped or report.input_rows
            or report.previews):
        log.info("retention: %s clips, %s input images, %s previews and %s files deleted, %s "
                 "delivered clips' data dropped", report.clip_rows, report.input_rows,
                 report.previews, report.files,
                 report.data_dropped)
