"""A real worker process (the `Worker` loop on the config's database) whose model renders in
a known time (`--step-seconds` per denoising step) and whose encoder takes a known time on
top of the real encode: to see the render and finish stages overlap, and to kill a worker
while one job encodes and the next renders.

    python -m tests.stand_in_worker CONFIG DATA_DIR --step-seconds S --encode-seconds E
        [--burst] [--worker-id ID]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from generator.backends.base import Frames
from generator.finishing import Encoder, encode
from storage.connect import close_store, open_store
from tests.backends import StripesBackend, stand_in_worker
from videobot.config import load_config
from videobot.media.clip import EncodedClip


def slow_encoder(seconds: float) -> Encoder:
    """The real encoder, after `seconds` of waiting (as a long clip's encode would take)."""

    def encode_slowly(frames: Frames, fps: int, video: Path, poster: Path,
                      speed: str) -> EncodedClip:
        time.sleep(seconds)
        return encode(frames, fps, video, poster, speed)

    return encode_slowly


async def main(args: argparse.Namespace) -> int:
    config = load_config(args.config, data_dir=args.data_dir)
    store = await open_store(config)
    backend = StripesBackend(step_seconds=args.step_seconds)
    worker = stand_in_worker(store, config, backend, worker_id=args.worker_id,
                             encoder=slow_encoder(args.encode_seconds))
    try:
        return await worker.run(burst=args.burst)
    finally:
        await close_store(store)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--step-seconds", type=float, required=True)
    parser.add_argument("--encode-seconds", type=float, required=True)
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--worker-id", default="stand-in")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main(parser.parse_args()))
