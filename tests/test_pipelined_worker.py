"""The worker's two stages with real worker processes: job N is encoded while job N+1 renders
(N jobs take about N x max(render, encode), not N x (render + encode)), and a worker killed
while one job encodes and the next renders loses neither: both are claimed again and each
clip is delivered once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.processes import ROOT, environment, videobot, wait_until
from tests.test_faults import enqueue_many, every_job
from tests.test_processes import job_state, write_config

pytestmark = pytest.mark.timeout(240)

#: The stand-in model's render: 10 steps of this many seconds.
STEPS = 10


def start_stand_in(config: Path, data: Path, log: Path, *, step_seconds: float,
                   encode_seconds: float, burst: bool = False) -> subprocess.Popen[bytes]:
    """A worker process rendering `STEPS * step_seconds` and encoding `encode_seconds` (plus
    the real encode) per job."""
    command = [sys.executable, "-m", "tests.stand_in_worker", str(config), str(data),
               "--step-seconds", str(step_seconds), "--encode-seconds", str(encode_seconds)]
    with log.open("ab") as out:
        return subprocess.Popen([*command, *(["--burst"] if burst else [])],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, env=environment())


def test_the_next_job_renders_while_the_last_one_encodes(tmp_path: Path) -> None:
    jobs, render_s, encode_s = 5, 1.0, 1.0
    config = write_config(tmp_path / "c.toml", Path("builtin:tiny-text-to-video-sd"),
                          limits={"max_queued_per_user": jobs})
    data = tmp_path / "d"
    asyncio.run(enqueue_many(config, data, jobs, steps=STEPS, frames=8))
    worker = start_stand_in(config, data, tmp_path / "w.log", step_seconds=render_s / STEPS,
                            encode_seconds=encode_s, burst=True)
    assert worker.wait(120) == 0, (tmp_path / "w.log").read_text()
    done = every_job(config, data)
    assert [job.status for job in done] == ["succeeded"] * jobs
    started = min(job.started_at for job in done if job.started_at)
    finished = max(job.finished_at for job in done if job.finished_at)
    span = (finished - started).total_seconds()
    # Pipelined: N renders back to back, then the last encode: N x max + min = 6 s here.
    # One after the other it would be N x (render + encode) = 10 s.
    assert span < jobs * max(render_s, encode_s) + min(render_s, encode_s) + 1.5, span
    log = (tmp_path / "w.log").read_text()
    # Job 2 was claimed before job 1's clip was stored.
    assert log.index("job 2 attempt 1: claimed") < log.index("job 1: done")


def test_sigkill_while_one_job_encodes_and_the_next_renders_loses_neither(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path / "c.toml", Path("builtin:tiny-text-to-video-sd"),
        queue={"lease_seconds": 2.0, "heartbeat_seconds": 0.5, "poll_interval_seconds": 0.3},
        limits={"max_queued_per_user": 3}, quotas={"credits": 1000},
    )
    data = tmp_path / "d"
    asyncio.run(enqueue_many(config, data, 3, steps=STEPS, frames=8))
    first_log = tmp_path / "first.log"
    first = start_stand_in(config, data, first_log, step_seconds=0.2, encode_seconds=60)
    try:
        wait_until(lambda: "job 1: rendered" in first_log.read_text()
                   and job_state(config, data, 2).progress_step >= 1, 60,
                   "job 1 to encode while job 2 renders")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    in_hand = [job_state(config, data, n) for n in (1, 2)]
    assert [(job.status, job.attempts) for job in in_hand] == [("running", 1)] * 2
    second = start_stand_in(config, data, tmp_path / "second.log", step_seconds=0.01,
                            encode_seconds=0)
    try:
        wait_until(lambda: all(job.status == "succeeded" for job in every_job(config, data)),
                   60, "every job to be rendered again and stored")
    finally:
        second.kill()
        second.wait(10)
    assert [(job_state(config, data, n).attempts) for n in (1, 2, 3)] == [2, 2, 1]
    for number in (1, 2):
        clip = job_state(config, data, number).clip
        assert clip is not None and Path(clip.video_path).name == f"job-{number}-a2.mp4"
    delivered = videobot("run", "--no-workers", data_dir=data, config=config)
    assert delivered.returncode == 0, delivered.stderr
    done = Counter(int(n) for n in re.findall(r"^Job #(\d+) done:", delivered.stdout, re.M))
    assert done == {1: 1, 2: 1, 3: 1}
    again = videobot("run", "--no-workers", data_dir=data, config=config)
    assert again.returncode == 0 and "done" not in again.stdout
