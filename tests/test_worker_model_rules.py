"""The worker's rules around its model: one resident pipeline and when it may switch, the
warm-up before the first claim, the per-job time limit, and out-of-memory failures that leave
the worker serving. Real database, real encoder; the OOM test renders a real tiny pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from generator.backends.base import Frames, OnStep, ShouldStop
from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.loader import ResidentBackend
from generator.worker import Worker
from storage.connect import close_store, open_store
from storage.models import JobStatus
from tests.backends import StripesBackend
from videobot.config import Config, PresetConfig, config_from_dict
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("console", "alice")


def make_config(tmp_path: Path, database_url: str, **worker: Any) -> Config:
    presets = {"a": {"time_limit_seconds": 1.0}, "b": {}}
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": "a",
                             "database": {"url": database_url}, "worker": worker,
                             "presets": presets})


class Models:
    """A loader that hands out stand-in backends and records loads and unloads."""

    def __init__(self, **backends: StripesBackend) -> None:
        self.backends = backends
        self.events: list[str] = []

    def __call__(self, preset: PresetConfig) -> Any:
        self.events.append(f"load {preset.name}")
        return _Recorded(self.backends[preset.name], preset.name, self.events)


class _Recorded:
    def __init__(self, backend: StripesBackend, name: str, events: list[str]) -> None:
        self._backend, self._name, self._events = backend, name, events

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop) -> Frames:
        return self._backend.generate(request, on_step, should_stop)

    def close(self) -> None:
        self._events.append(f"close {self._name}")


def make_worker(store: Any, config: Config, loader: Any) -> Worker:
    resident = ResidentBackend(device="cpu", models_dir=config.data_dir / "models",
                               loader=loader)
    return Worker(store=store, config=config, backends=resident, worker_id="w1",
                  clips_dir=config.data_dir / "clips")


def request(preset: str, **changes: Any) -> RenderRequest:
    base = RenderRequest(prompt="a red ball", negative_prompt="", frames=8, fps=8, width=32,
                         height=32, steps=2, guidance=7.5, seed=3, preset=preset)
    return base.replace(**changes)


async def test_a_worker_that_may_not_switch_keeps_its_first_preset(
    tmp_path: Path, database_url: str
) -> None:
    config = make_config(tmp_path, database_url)
    store = await open_store(config)
    try:
        models = Models(a=StripesBackend(), b=StripesBackend())
        worker = make_worker(store, config, models)
        await worker.prepare()
        on_a = await store.submissions.enqueue(ALICE, request("a"), max_queued_per_user=10)
        on_b = await store.submissions.enqueue(ALICE, request("b"), max_queued_per_user=10)
        assert worker.claimable_presets() == ("a",)
        assert await worker.run(burst=True) == 1
        assert (await store.jobs.require(on_a.id)).status == JobStatus.SUCCEEDED
        assert (await store.jobs.require(on_b.id)).status == JobStatus.QUEUED
        assert models.events == ["load a"]
    finally:
        await close_store(store)


async def test_a_worker_that_may_switch_unloads_before_it_loads(
    tmp_path: Path, database_url: str
) -> None:
    # Jobs in their turn, whatever the model loaded: here every job means a switch.
    config = make_config(tmp_path, database_url, switch_presets=True, switch_after_seconds=0)
    store = await open_store(config)
    try:
        models = Models(a=StripesBackend(), b=StripesBackend())
        worker = make_worker(store, config, models)
        await worker.prepare()
        await store.submissions.enqueue(ALICE, request("b"), max_queued_per_user=10)
        await store.submissions.enqueue(ALICE, request("a"), max_queued_per_user=10)
        assert worker.claimable_presets() == ("a", "b")
        assert await worker.run(burst=True) == 2
        assert models.events == ["load a", "close a", "load b", "close b", "load a"]
    finally:
        await close_store(store)


async def test_a_worker_that_may_switch_takes_its_loaded_models_jobs_first(
    tmp_path: Path, database_url: str
) -> None:
    """A mixed queue costs one switch, not one per job: the loaded preset's jobs go ahead of
    their turn while the other preset's have waited less than `switch_after_seconds`."""
    config = make_config(tmp_path, database_url, switch_presets=True)
    store = await open_store(config)
    try:
        models = Models(a=StripesBackend(), b=StripesBackend())
        worker = make_worker(store, config, models)
        await worker.prepare()
        users = [UserRef("console", name) for name in ("u1", "u2", "u3", "u4")]
        jobs = [await store.submissions.enqueue(user, request(preset), max_queued_per_user=10)
                for user, preset in zip(users, "baba", strict=True)]
        assert await worker.run(burst=True) == 4
        done = sorted([await store.jobs.require(job.id) for job in jobs],
                      key=lambda job: job.started_at or job.created_at)
        assert [job.request.preset for job in done] == ["a", "a", "b", "b"]
        assert models.events == ["load a", "close a", "load b"]
    finally:
        await close_store(store)


async def test_worker_presets_limit_what_a_worker_takes(tmp_path: Path, database_url: str) -> None:
    config = make_config(tmp_path, database_url, presets=["b"])
    store = await open_store(config)
    try:
        worker = make_worker(store, config, Models(a=StripesBackend(), b=StripesBackend()))
        await worker.prepare()
        assert worker.claimable_presets() == ("b",)
    finally:
        await close_store(store)


async def test_warm_up_renders_one_step_at_the_presets_default_size(
    tmp_path: Path, database_url: str
) -> None:
    config = make_config(tmp_path, database_url)
    store = await open_store(config)
    try:
        backend = StripesBackend()
        seen: list[RenderRequest] = []
        original = backend.generate

        def spy(req: RenderRequest, on_step: OnStep, should_stop: ShouldStop) -> Frames:
            seen.append(req)
            return original(req, on_step, should_stop)

        backend.generate = spy  # type: ignore[method-assign]
        await make_worker(store, config, Models(a=backend)).prepare()
        preset = config.presets["a"]
        assert [(r.steps, r.frames, r.width, r.height) for r in seen] == [
            (1, preset.frames, preset.width, preset.height)]
        cold = make_config(tmp_path, database_url, warm_up=False)
        seen.clear()
        await make_worker(store, cold, Models(a=backend)).prepare()
        assert seen == []
    finally:
        await close_store(store)


async def test_a_job_over_its_time_limit_is_stopped_and_failed_and_the_next_runs(
    tmp_path: Path, database_url: str
) -> None:
    config = make_config(tmp_path, database_url)  # preset a: 1 s
    store = await open_store(config)
    try:
        backend = StripesBackend(step_seconds=0.1)
        worker = make_worker(store, config, Models(a=backend))
        enqueue = store.submissions.enqueue
        slow = await enqueue(ALICE, request("a", steps=50), max_queued_per_user=10)
        quick = await enqueue(ALICE, request("a", steps=2), max_queued_per_user=10)
        await worker.run(burst=True)
        job = await store.jobs.require(slow.id)
        assert job.status == JobStatus.FAILED
        assert job.error == ("rendering took longer than the 1 s limit of the preset a; "
                             "try fewer frames or steps")
        assert job.progress_step < 25
        assert (await store.jobs.require(quick.id)).status == JobStatus.SUCCEEDED
    finally:
        await close_store(store)


class OutOfMemoryFirst:
    """A real backend whose step callback raises CUDA's out-of-memory error for its first
    `times` steps: what a too-large clip does on a GPU, simulated on a CPU."""

    def __init__(self, backend: DiffusersBackend, times: int) -> None:
        self.backend, self.left = backend, times

    def generate(self, req: RenderRequest, on_step: OnStep, should_stop: ShouldStop) -> Frames:
        def step(i: int, total: int) -> None:
            if self.left > 0:
                self.left -= 1
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            on_step(i, total)

        return self.backend.generate(req, step, should_stop)

    def close(self) -> None:
        self.backend.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_out_of_memory_twice_fails_the_job_and_the_worker_serves_on(
    tmp_path: Path, database_url: str, tiny_model: Path
) -> None:
    config = config_from_dict({
        "data_dir": str(tmp_path / "data"), "default_preset": "tiny",
        "database": {"url": database_url},
        "presets": {"tiny": {"model": str(tiny_model)}}, "worker": {"warm_up": False},
    })
    store = await open_store(config)
    try:
        real = DiffusersBackend.load(config.presets["tiny"], device="cpu",
                                     models_dir=config.data_dir / "models")
        flaky = OutOfMemoryFirst(real, times=2)
        worker = make_worker(store, config, lambda _preset: flaky)
        first = await store.submissions.enqueue(ALICE, request("tiny"), max_queued_per_user=10)
        second = await store.submissions.enqueue(ALICE, request("tiny"), max_queued_per_user=10)
        assert await worker.run(burst=True) == 2
        failed = await store.jobs.require(first.id)
        assert failed.status == JobStatus.FAILED
        assert failed.error == ("the GPU ran out of memory for 8 frames at 32x32; try fewer "
                                "frames or a smaller size")
        assert (await store.jobs.require(second.id)).status == JobStatus.SUCCEEDED
        assert real.pipe.vae.use_tiling  # the retry's lighter setting stays
    finally:
        await close_store(store)
