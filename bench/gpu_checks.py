"""The measurements bench/gpu.py makes, each a row of its table."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DiffusionPipeline

from generator.backends.diffusers_backend import (
    DiffusersBackend,
    resolve_model,
    to_uint8_frames,
    torch_dtype,
)
from generator.memory_estimate import GIB, folder_weights, measured, peak_bytes
from storage.connect import close_store, open_store
from videobot.config import PresetConfig, load_config
from videobot.params import RenderRequest
from videobot.request_builder import request_from_preset
from videobot.users import UserRef

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "a red fox running through fresh snow, golden hour"


@dataclass(frozen=True)
class Setup:
    """What is measured: a model (its preset as shipped), where, how often."""

    title: str
    shipped: PresetConfig
    device: str
    models: Path
    runs: int = 1
    random_weights: bool = False

    @property
    def request(self) -> RenderRequest:
        return request_from_preset(self.shipped, PROMPT, {"seed": 42})

    @property
    def gpu(self) -> bool:
        return self.device.startswith("cuda")


@dataclass
class Row:
    """One line of the table."""

    what: str
    seconds: float | None = None
    clips_per_hour: float | None = None
    peak: str = ""
    notes: list[str] = field(default_factory=list)


def timed_vanilla(setup: Setup, what: str) -> Row:
    """The pipeline as its model card loads it (dtype, on the device) and calls it."""
    preset, request = setup.shipped, setup.request
    pipe = DiffusionPipeline.from_pretrained(resolve_model(preset.model, setup.models),
                                             dtype=torch_dtype(preset.dtype, setup.device))
    pipe.set_progress_bar_config(disable=True)
    pipe.to(setup.device)
    call = _vanilla_call(pipe, request)
    row = _timed(setup, what, call)
    del call, pipe
    _free(setup)
    return row


def _vanilla_call(pipe: Any, request: RenderRequest) -> Callable[[], np.ndarray]:
    def call() -> np.ndarray:
        output = pipe(prompt=request.prompt, num_frames=request.frames, height=request.height,
                      width=request.width, num_inference_steps=request.steps,
                      guidance_scale=request.guidance, output_type="np",
                      generator=torch.Generator("cpu").manual_seed(request.seed))
        return to_uint8_frames(output.frames)

    return call


def timed_backend(setup: Setup, what: str, preset: PresetConfig, reference: Row, *,
                  compared: str = "vs vanilla", previews: bool = False) -> Row:
    """videobot's backend with `preset`'s options (previews collected when asked), and how
    its time compares with `reference`'s."""
    backend = DiffusersBackend.load(preset, device=setup.device, models_dir=setup.models)
    shown: list[int] = []
    keep = (lambda step, _total, _frames: shown.append(step)) if previews else None

    def call() -> np.ndarray:
        return backend.generate(setup.request, lambda _s, _t: None, lambda: False,
                                on_preview=keep)

    row = _timed(setup, what, call)
    backend.close()
    _free(setup)
    if reference.seconds and row.seconds:
        row.notes.append(f"{compared} {100 * (row.seconds / reference.seconds - 1):+.1f} %")
    if previews:
        row.notes.append(f"previews a clip: {len(shown) // (setup.runs + 1)}")
    return row


def _timed(setup: Setup, what: str, call: Callable[[], np.ndarray]) -> Row:
    call()  # warm-up: compilation, kernel autotuning, allocator growth
    if setup.gpu:
        torch.cuda.reset_peak_memory_stats(setup.device)
    times = []
    for _ in range(setup.runs):
        started = time.perf_counter()
        call()
        if setup.gpu:
            torch.cuda.synchronize(setup.device)
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    return Row(what, seconds, 3600 / seconds, _peak(setup))


def _peak(setup: Setup) -> str:
    if not setup.gpu:
        return "no GPU"
    return f"{torch.cuda.max_memory_allocated(setup.device) / GIB:.1f} GiB"


def _free(setup: Setup) -> None:
    gc.collect()
    if setup.gpu:
        torch.cuda.empty_cache()


def end_to_end(setup: Setup, jobs: int, scratch: Path) -> list[Row]:
    """N bare calls back to back, then N jobs through a real `videobot worker`: clips per
    hour, and the share of wall time the device was busy in pipeline calls."""
    bare = _bare_calls(setup, jobs)
    worker = _worker_run(setup, jobs, scratch / "e2e")
    if bare.clips_per_hour and worker.clips_per_hour:
        worker.notes.append(f"{100 * (worker.clips_per_hour / bare.clips_per_hour - 1):+.1f} "
                            "% clips/hour vs bare")
    return [bare, worker]


def _bare_calls(setup: Setup, jobs: int) -> Row:
    backend = DiffusersBackend.load(setup.shipped, device=setup.device, models_dir=setup.models)
    request = setup.request
    backend.generate(request, lambda _s, _t: None, lambda: False)  # warm-up
    started = time.perf_counter()
    for seed in range(jobs):
        backend.generate(request.replace(seed=seed), lambda _s, _t: None, lambda: False)
    if setup.gpu:
        torch.cuda.synchronize(setup.device)
    wall = time.perf_counter() - started
    backend.close()
    _free(setup)
    return Row(f"{jobs} bare pipeline calls back to back", wall / jobs, 3600 * jobs / wall)


def _worker_run(setup: Setup, jobs: int, data: Path) -> Row:
    config = _worker_config(setup, data)
    asyncio.run(_enqueue(config, data, setup.request, jobs))
    log = data / "worker.log"
    command = [sys.executable, "-m", "generator", "--config", str(config), "--data-dir",
               str(data), "worker", "--burst", "--device", setup.device]
    with log.open("wb") as out:
        subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
    first, last = asyncio.run(_span(config, data))
    wall = (last - first).total_seconds()
    calls = [float(s) for s in re.findall(r"pipeline call: ([\d.]+) s", log.read_text())]
    busy = sum(calls[-jobs:])  # the first call was the worker's warm-up
    row = Row(f"videobot worker, {jobs} jobs end to end", wall / jobs, 3600 * jobs / wall)
    row.notes.append(f"{'GPU' if setup.gpu else 'model'} busy {100 * busy / wall:.0f} % "
                     "of wall time")
    return row


def _worker_config(setup: Setup, data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    preset = {key: value for key, value in vars(setup.shipped).items()
              if key not in ("name", "pipeline_args") and value != getattr(PresetConfig, key)}
    preset["max_frames"], preset["max_pixels"] = setup.shipped.max_frames, \
        setup.shipped.max_pixels
    lines = ['default_preset = "bench"', "[worker]", f'devices = ["{setup.device}"]',
             "[limits]", "max_queued_per_user = 100", "[quotas]", "credits = 100000",
             "[presets.bench]", *(f"{key} = {json.dumps(value)}" for key, value in
                                  preset.items())]
    path = data / "bench.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def _enqueue(config_path: Path, data: Path, request: RenderRequest, jobs: int) -> None:
    store = await open_store(load_config(config_path, data_dir=data))
    try:
        for seed in range(jobs):
            await store.submissions.enqueue(UserRef("console", "bench"),
                                            request.replace(seed=seed, preset="bench"),
                                            max_queued_per_user=jobs)
    finally:
        await close_store(store)


async def _span(config_path: Path, data: Path) -> tuple[Any, Any]:
    """When the first job started and the last one finished."""
    store = await open_store(load_config(config_path, data_dir=data))
    try:
        done = await store.jobs.jobs_of(UserRef("console", "bench"), limit=1000)
    finally:
        await close_store(store)
    failed = [job for job in done if job.status != "succeeded"]
    if failed:
        raise SystemExit(f"job {failed[0].id} ended {failed[0].status}: {failed[0].error}")
    return (min(job.started_at for job in done if job.started_at),
            max(job.finished_at for job in done if job.finished_at))


def family_peak(setup: Setup) -> Row:
    """A family's peak in a vanilla call at its native size, against doctor's estimate."""
    preset = setup.shipped
    row = timed_vanilla(replace(setup, runs=1),
                        f"{setup.title} peak ({preset.frames}x{preset.width}x{preset.height})")
    estimate = peak_bytes(preset, folder_weights(Path(preset.model)), accelerator=setup.gpu)
    row.notes.append(f"doctor estimates {estimate / GIB:.1f} GiB"
                     + ("" if measured(preset) else " (unmeasured family)"))
    return row


def print_table(rows: list[Row]) -> None:
    print(f"{'':46} {'s/clip':>8} {'clips/h':>9} {'peak GPU':>9}  notes")
    for row in rows:
        seconds = f"{row.seconds:8.2f}" if row.seconds is not None else f"{'':8}"
        per_hour = f"{row.clips_per_hour:9.0f}" if row.clips_per_hour else f"{'':9}"
        print(f"{row.what:46} {seconds} {per_hour} {row.peak:>9}  {'; '.join(row.notes)}")
