"""What the queue adds to a clip: 20 jobs through submit -> worker process -> stored clip,
against the same 20 requests through the bare backend + encoder in this process.

Prints the median time each path takes per job, the ratio end-to-end / bare, the median time
the queue adds per job (ms: end to end minus the worker's own render + encode of that job),
and the enqueue-to-claim latency of an idle worker.

    .venv/bin/python bench/overhead.py [--jobs 20] [--preset NAME] [--config PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.parsing import VideoOptions  # noqa: E402
from bot.core.requests import build_request  # noqa: E402
from generator.backends.base import Backend  # noqa: E402
from generator.backends.loader import load_backend  # noqa: E402
from storage.connect import close_store, open_store  # noqa: E402
from storage.store import Store  # noqa: E402
from storage.wakeup import EVENTS, Listener  # noqa: E402
from videobot.config import Config, load_config  # noqa: E402
from videobot.media.encode import encode_clip  # noqa: E402
from videobot.params import RenderRequest  # noqa: E402
from videobot.users import UserRef  # noqa: E402

USER = UserRef("console", "bench")


def requests(config: Config, count: int, preset: str | None) -> list[RenderRequest]:
    options = {"seed": 0} | ({"preset": preset} if preset else {})
    made = []
    for index in range(count):
        request, _notes = build_request(VideoOptions(f"a red ball moving left {index}",
                                                     {**options, "seed": index}), config)
        made.append(request)
    return made


def bare(backend: Backend, request: RenderRequest, out: Path) -> float:
    """Seconds for one request through backend + encoder, the model already loaded."""
    started = time.perf_counter()
    frames = backend.generate(request, lambda _s, _t: None, lambda: False)
    encode_clip(frames, request.fps, out / "bare.mp4", out / "bare.jpg")
    return time.perf_counter() - started


async def through_queue(store: Store, events: Listener,
                        request: RenderRequest) -> tuple[float, float, float]:
    """(enqueue -> stored clip, enqueue -> claim, the worker's own render + encode) seconds
    for one job, an idle worker process waiting for it."""
    started = time.perf_counter()
    job = await store.submissions.enqueue(USER, request, max_queued_per_user=1000)
    while (done := await store.jobs.require(job.id)).clip is None:
        if done.is_final:
            raise SystemExit(f"job {job.id} ended {done.status}: {done.error}")
        await events.wait(0.05)
    assert done.started_at is not None
    claim = (done.started_at - done.created_at).total_seconds()
    return time.perf_counter() - started, claim, done.clip.render_seconds


async def measure(config: Config, batch: list[RenderRequest],
                  out: Path) -> tuple[list[float], list[float], list[float], list[float]]:
    """Each request both ways, back to back, so that both see the same machine load."""
    backend = load_backend(config.preset(batch[0].preset), device="cpu",
                           models_dir=config.data_dir / "models")
    store = await open_store(config)
    bare_s, e2e_s, claim_s, inside_s = [], [], [], []
    try:
        async with store.signals.listener(EVENTS) as events:
            for request in batch:
                bare_s.append(bare(backend, request, out))
                total, claim, inside = await through_queue(store, events, request)
                e2e_s.append(total)
                claim_s.append(claim)
                inside_s.append(inside)
    finally:
        backend.close()
        await close_store(store)
    return bare_s, e2e_s, claim_s, inside_s


def start_worker(config_path: Path | None, data_dir: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "generator", "--data-dir", str(data_dir), "worker"]
    if config_path:
        args[3:3] = ["--config", str(config_path)]
    log = (data_dir / "bench-worker.log").open("ab")
    return subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log)


def wait_ready(data_dir: Path, seconds: float = 300) -> None:
    log = data_dir / "bench-worker.log"
    deadline = time.monotonic() + seconds
    while "ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start; see {log}")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--preset")
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="videobot-bench-") as folder:
        data_dir = Path(folder)
        config = load_config(args.config, data_dir=data_dir)
        batch = requests(config, args.jobs, args.preset)
        worker = start_worker(args.config, data_dir)
        try:
            wait_ready(data_dir)
            bare_s, e2e_s, claim_s, inside_s = asyncio.run(measure(config, batch, data_dir))
        finally:
            worker.terminate()
            worker.wait(60)
    # What the queue adds around the work: end to end minus the worker's own render + encode
    # (same process, same job), free of the render-time noise between two processes.
    added = [(e - i) * 1000 for e, i in zip(e2e_s, inside_s, strict=True)]
    request = batch[0]
    print(f"preset {request.preset}: {request.frames} frames {request.width}x{request.height}, "
          f"{request.steps} steps, {args.jobs} jobs, one at a time")
    print(f"bare backend + encoder   median {statistics.median(bare_s) * 1000:8.1f} ms/job")
    print(f"submit -> worker -> clip median {statistics.median(e2e_s) * 1000:8.1f} ms/job")
    print(f"added by the queue       median {statistics.median(added):8.1f} ms/job "
          f"(end-to-end minus the worker's own render + encode)")
    print(f"ratio end-to-end / bare         "
          f"{statistics.median(e2e_s) / statistics.median(bare_s):8.2f}")
    print(f"enqueue -> claim (idle)  median {statistics.median(claim_s) * 1000:8.1f} ms, "
          f"max {max(claim_s) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
