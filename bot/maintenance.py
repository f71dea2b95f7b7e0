"""Housekeeping the bot process does on a timer: end jobs whose worker died for good, delete
old clips, forget workers long gone."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from storage.jobs import JobStore
from storage.retention import prune_clips
from storage.workers import WorkerRegistry
from videobot.config import Config

log = logging.getLogger(__name__)

EXPIRE_EVERY_S = 5.0
PRUNE_EVERY_S = 3600.0
FORGET_WORKERS_AFTER = timedelta(days=1)


async def run_maintenance(store: JobStore, config: Config, stop: asyncio.Event) -> None:
    """Until `stop`: expire leases every few seconds; prune clips and workers hourly."""
    last_prune = float("-inf")
    registry = WorkerRegistry(store.engine, clock=store.clock)
    while not stop.is_set():
        try:
            await store.expire_leases()
            if time.monotonic() - last_prune >= PRUNE_EVERY_S:
                last_prune = time.monotonic()
                await prune_once(store, config)
                await registry.forget_stopped(store.clock() - FORGET_WORKERS_AFTER)
        except Exception:
            log.exception("maintenance failed; trying again")
        try:
            await asyncio.wait_for(stop.wait(), EXPIRE_EVERY_S)
        except TimeoutError:
            pass


async def prune_once(store: JobStore, config: Config) -> None:
    report = await prune_clips(
        store, keep_days=config.storage.keep_clips_days,
        drop_delivered_hours=config.storage.drop_delivered_clip_data_hours,
        clips_dir=config.data_dir / "clips",
    )
    if report.clip_rows or report.files or report.data_dropped or report.previews:
        log.info("retention: %s clips, %s previews and %s files deleted, %s delivered clips' "
                 "data dropped", report.clip_rows, report.previews, report.files,
                 report.data_dropped)
