"""`/describe`: video to text with the demo model's captioner, in a subprocess (the bot
process never imports torch)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from bot.core.errors import CommandError
from storage.records import JobRecord
from storage.store import Store

DESCRIBE_TIMEOUT_S = 120.0


class DescribeFailed(Exception):
    """The captioner did not answer."""


async def describe_job(store: Store, job: JobRecord) -> str:
    """What the captioner sees in a finished job's clip."""
    if job.clip is None:
        raise CommandError(f"job #{job.id} has no clip to describe (it is {job.status})")
    if not job.clip.in_database:
        return await describe_file(job.clip.video_path)
    data = await store.jobs.clip_data(job.id)
    if data is None:
        raise CommandError(f"job #{job.id}'s clip is no longer stored")
    with tempfile.TemporaryDirectory(prefix="videobot-describe-") as folder:
        path = Path(folder) / "clip.mp4"
        await asyncio.to_thread(path.write_bytes, data[0])
        return await describe_file(path)


async def describe_file(path: Path) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "generator.backends.demo.describe", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), DESCRIBE_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise DescribeFailed(f"the captioner took over {DESCRIBE_TIMEOUT_S:g} s") from None
    if process.returncode != 0:
        raise DescribeFailed(err.decode(errors="replace")[-2000:])
    return out.decode().strip()
