"""Real videobot processes on real SQLite files: the console chat from a pipe, the CLI, the
wake-up signal, and a worker SIGKILLed mid-render."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import av
import pytest

from storage.connect import close_store, open_store
from storage.records import JobRecord
from tests.processes import start, videobot, wait_until
from videobot.config import load_config

pytestmark = pytest.mark.timeout(240)


def write_config(path: Path, model: Path, **sections: dict[str, object]) -> Path:
    """A config with the tiny model as preset `tiny`, plus `sections` (TOML tables)."""
    lines = ['default_preset = "tiny"', "", "[presets.tiny]", f'model = "{model}"', "steps = 4",
             ""]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def job_state(config_path: Path, data_dir: Path, job_id: int) -> JobRecord:
    async def read() -> JobRecord:
        store = await open_store(load_config(config_path, data_dir=data_dir))
        try:
            return await store.jobs.require(job_id)
        finally:
            await close_store(store)

    return asyncio.run(read())


def decode(path: str) -> tuple[str, int, int, int]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.name, frames, stream.width, stream.height


def test_console_chat_from_a_pipe_renders_delivers_and_exits(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model)
    data = tmp_path / "data"
    result = videobot("run", data_dir=data, config=config,
                      stdin="/video a red ball bouncing --frames 16 --seed 7 --steps 30\n"
                            "/queue\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Job #1 queued — next in line." in out
    assert "16 frames, 64x64 @ 8 fps, 30 steps, guidance 7.5, seed 7, preset tiny" in out
    # Progress lines while it renders (how many depends on the machine's speed).
    assert re.search(r"^Job #1: rendering \[[#-]{10}\] step \d+/30 \d+%", out, re.M)
    clip = data / "clips" / "job-1-a1.mp4"
    assert f"Job #1 done: {clip}" in out
    assert f"Poster: {clip.with_suffix('.jpg')}" in out
    assert decode(str(clip)) == ("h264", 16, 64, 64)
    # A second run delivers nothing twice and exits at once.
    again = videobot("run", data_dir=data, config=config, stdin="")
    assert again.returncode == 0 and "done" not in again.stdout


def test_console_cancel_and_bad_input(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model, worker={"devices": ["cpu"]})
    script = "/video --frames 0 a ball\n/video a ball --frames 8\n/cancel 1\n/cancel 99\n"
    result = videobot("run", "--no-workers", data_dir=tmp_path / "d", config=config,
                      stdin=script)
    assert result.returncode == 0, result.stderr
    assert "Sorry: frames must be between 1 and 64, not 0." in result.stdout
    assert "Job #1 cancelled; 0.5 credits refunded." in result.stdout
    assert "Sorry: there is no job #99." in result.stdout
    assert "was cancelled" not in result.stdout  # said once: the cancel's answer was final


def test_generate_writes_a_clip_with_no_queue(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model)
    out = tmp_path / "clip.mp4"
    result = videobot("generate", "a blue box", "--out", str(out), "--seed", "5",
                      "--frames", "8", "--width", "48", "--height", "32",
                      data_dir=tmp_path / "d", config=config)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and "seed: 5" in result.stdout
    assert decode(str(out)) == ("h264", 8, 48, 32)
    assert out.with_suffix(".jpg").is_file()
    assert not (tmp_path / "d" / "videobot.db").exists()  # no queue involved


def test_submit_worker_burst_and_status(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model)
    data = tmp_path / "d"
    assert videobot("db", "upgrade", data_dir=data, config=config).returncode == 0
    submitted = videobot("submit", "a green triangle", "--user", "telegram:42", "--seed", "9",
                         "--frames", "8", data_dir=data, config=config)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    status = videobot("status", job_id, "--json", data_dir=data, config=config)
    state = json.loads(status.stdout)
    assert (state["status"], state["user"], state["queue_position"]) == ("queued", "telegram:42", 1)
    assert state["request"]["seed"] == 9
    burst = videobot("worker", "--burst", data_dir=data, config=config)
    assert burst.returncode == 0, burst.stderr
    state = json.loads(videobot("status", job_id, "--json", data_dir=data,
                                config=config).stdout)
    assert state["status"] == "succeeded" and state["attempts"] == 1
    assert decode(state["clip"]["video_path"]) == ("h264", 8, 64, 64)
    text = videobot("status", job_id, data_dir=data, config=config).stdout
    assert f"Job #{job_id}: done." in text
    workers = videobot("admin", "workers", data_dir=data, config=config).stdout
    assert "model tiny loaded" in workers and "memory" not in workers  # a CPU reports none


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", "a ball", "--frames", "0"], "frames must be between 1 and 64, not 0"),
        (["submit", "a ball", "--width", "7"], "width must be between 16"),
        (["submit", "x" * 10_000], "the prompt is 10000 characters long; the limit is 500"),
        (["submit", "a ball", "--user", "alice"], "is not a user: write <platform>:<id>"),
        (["submit", "a ball", "--preset", "huge"], "there is no preset 'huge'"),
        (["status", "12345"], "no videobot data folder at"),
    ],
)
def test_cli_refuses_bad_input_and_changes_nothing(
    tmp_path: Path, tiny_model: Path, args: list[str], message: str
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model)
    result = videobot(*args, data_dir=tmp_path / "d", config=config)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    listing = videobot("submit", "probe", data_dir=tmp_path / "d", config=config)
    assert listing.stdout.strip() == "1"  # nothing was queued before


def test_corrupt_config_and_unwritable_data_dir(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[queue\nlease_seconds = 3\n")
    result = videobot("run", data_dir=tmp_path / "d", config=bad)
    assert result.returncode == 2 and "is not valid TOML" in result.stderr
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[queue]\nlease_seconds = -1\n")
    result = videobot("run", data_dir=tmp_path / "d", config=wrong)
    assert result.returncode == 2 and "queue.lease_seconds: must be positive" in result.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = videobot("run", data_dir=blocker / "data")
    assert result.returncode == 2 and "is not writable" in result.stderr
    assert "Traceback" not in result.stderr


def test_idle_worker_is_woken_by_the_signal_not_the_poll(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model,
                          queue={"poll_interval_seconds": 120.0})
    data = tmp_path / "d"
    worker = start("worker", data_dir=data, config=config)
    try:
        wait_until(lambda: "ready" in (data / "process.log").read_text(errors="replace"),
                   90, "the worker to be ready")
        job_id = int(videobot("submit", "a ball", "--frames", "8", data_dir=data,
                              config=config).stdout)
        # Far below the 120 s poll: only the wake-up signal can explain a claim.
        wait_until(lambda: job_state(config, data, job_id).status == "succeeded", 30,
                   "the job to be claimed and rendered")
    finally:
        worker.terminate()
        assert worker.wait(30) == 0


def test_sigkilled_worker_is_restarted_and_the_job_finishes_on_attempt_two(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(
        tmp_path / "c.toml", tiny_model,
        queue={"lease_seconds": 3.0, "heartbeat_seconds": 0.5, "poll_interval_seconds": 0.5},
        console={"enabled": False},
        worker={"restart_delay_seconds": 0.2},
    )
    data = tmp_path / "d"
    bot = start("run", data_dir=data, config=config)
    try:
        job_id = int(videobot("submit", "a slow ball", "--steps", "40", "--frames", "8",
                              data_dir=data, config=config).stdout)
        wait_until(lambda: job_state(config, data, job_id).progress_step >= 2, 90,
                   "the render to start")
        first = job_state(config, data, job_id)
        assert first.attempts == 1 and first.worker_id is not None
        os.kill(int(first.worker_id.split(":")[1]), signal.SIGKILL)
        wait_until(lambda: job_state(config, data, job_id).status == "succeeded", 150,
                   "the job to finish on the restarted worker")
        done = job_state(config, data, job_id)
        assert done.attempts == 2 and done.worker_id != first.worker_id
        assert done.clip is not None and str(done.clip.video_path).endswith(f"job-{job_id}-a2.mp4")
        assert sorted(p.name for p in (data / "clips").glob("*.mp4")) == [
            f"job-{job_id}-a2.mp4"
        ]
        assert "restarting" in (data / "logs" / "videobot.log").read_text()
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            assert bot.wait(60) == 0
        except subprocess.TimeoutExpired:
            bot.kill()
            raise
