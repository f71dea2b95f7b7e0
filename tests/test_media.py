"""One clip type from the encoder to the upload: what the encoder returns is what the job store
records and reads back and what an adapter posts; the bot's side of it needs no numpy."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.uploads import prepare_upload
from storage.store import Store
from videobot.media.encode import encode_clip
from videobot.params import RenderRequest
from videobot.users import UserRef

REQUEST = RenderRequest(prompt="a red ball", negative_prompt="", frames=24, fps=8, width=128,
                        height=128, steps=2, guidance=1.0, seed=7, preset="tiny")


async def test_the_encoders_clip_is_stored_read_back_and_uploaded_as_one_type(
    store: Store, tmp_path: Path
) -> None:
    frames = np.random.default_rng(0).integers(0, 256, (24, 128, 128, 3), dtype=np.uint8)
    encoded = encode_clip(frames, 8, tmp_path / "c.mp4", tmp_path / "c.jpg")
    job = await store.submissions.enqueue(UserRef("console", "alice"), REQUEST,
                                          max_queued_per_user=5)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None

    await store.leases.finish_succeeded(job.id, claimed.attempt,
                                        replace(encoded, render_seconds=1.5))

    stored = (await store.jobs.require(job.id)).clip
    assert stored == replace(encoded, render_seconds=1.5)
    assert await prepare_upload(stored, encoded.size_bytes, tmp_path / "up") is stored
    fitted = await prepare_upload(stored, encoded.size_bytes // 2, tmp_path / "up")
    assert fitted.video_path.parent == fitted.poster_path.parent == tmp_path / "up"
    assert fitted.size_bytes == fitted.video_path.stat().st_size <= encoded.size_bytes // 2
    assert fitted.note.startswith("re-encoded at")
    assert stored.poster_path.exists() and fitted.poster_path.exists()


def test_the_bots_side_of_the_media_imports_no_numpy() -> None:
    code = ("import sys, bot.uploads, videobot.media.thumbnail; "
            "sys.exit('numpy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
