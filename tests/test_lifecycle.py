"""`videobot run` as a service and at a terminal, with real processes: no terminal (stdin at
end of file) beside another front door, Ctrl-C as a terminal sends it (SIGINT to the whole
process group), a second Ctrl-C, a bot killed with SIGKILL, and what the worker registry says
about each of its workers afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.connect import close_store, open_store
from storage.errors import JobNotFound
from storage.workers import WorkerRecord, WorkerRegistry
from tests.fakes.telegram_api import FakeTelegram
from tests.processes import ROOT, command, environment, start, videobot, wait_until
from tests.test_processes import job_state
from videobot.config import load_config

pytestmark = pytest.mark.timeout(240)

#: Short leases, so that a job stranded by a dead worker would show within the test.
QUICK_QUEUE = {"lease_seconds": 3.0, "heartbeat_seconds": 0.5, "poll_interval_seconds": 0.5}
GRACE_S = 20.0
#: Steps enough for a render of several seconds: a stop must catch it under way.
SLOW = ["--steps", "300", "--frames", "8"]


def write_config(path: Path, model: Path, default: str = "tiny",
                 **sections: dict[str, object]) -> Path:
    """Two presets of the tiny model (`tiny`, `other`) that allow long renders."""
    lines = [f'default_preset = "{default}"']
    for name in ("tiny", "other"):
        lines += [f"[presets.{name}]", f'model = "{model}"', "steps = 4", "max_steps = 500"]
    sections = {"quotas": {"credits": 1000}, **sections}
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def start_in_own_group(*args: str, data_dir: Path, config: Path,
                       stdin: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """`videobot ARGS` as a terminal or `setsid` starts it: leader of its own process group
    (a terminal's Ctrl-C goes to the whole group)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "bot.out").open("ab") as out:
        return subprocess.Popen(command(*args, data_dir=data_dir, config=config), stdin=stdin,
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=environment(), start_new_session=True)


def workers(config: Path, data_dir: Path) -> list[WorkerRecord]:
    async def read() -> list[WorkerRecord]:
        store = await open_store(load_config(config, data_dir=data_dir))
        try:
            return await WorkerRegistry(store.engine, clock=store.clock).all()
        finally:
            await close_store(store)

    return asyncio.run(read())


def supervised_worker(config: Path, data_dir: Path) -> WorkerRecord:
    """The one worker `videobot run` started, once it has registered."""
    wait_until(lambda: any(w.status == "ready" for w in workers(config, data_dir)), 120,
               "the supervised worker to be ready")
    [worker] = workers(config, data_dir)
    return worker


def rendering(config: Path, data_dir: Path, job_id: int) -> bool:
    """Whether the job exists and has rendered a step or two."""
    try:
        return job_state(config, data_dir, job_id).progress_step >= 2
    except JobNotFound:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by a parent that was killed) is not alive either.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop(bot: subprocess.Popen[bytes]) -> None:
    if bot.poll() is None:
        bot.kill()
        bot.wait(30)
    if bot.stdin is not None:
        bot.stdin.close()


def test_without_a_terminal_the_console_ends_but_telegram_goes_on(tmp_path: Path) -> None:
    asyncio.run(_service_without_a_terminal(tmp_path))


async def _service_without_a_terminal(tmp_path: Path) -> None:
    data = tmp_path / "d"
    async with FakeTelegram() as api:
        config = tmp_path / "c.toml"
        config.write_text(f'[telegram]\ntoken = "{api.token}"\n'
                          f'api_base_url = "{api.base_url}"\n')
        # stdin at end of file, as systemd, nohup, docker and setsid start it.
        bot = start_in_own_group("run", "--no-workers", data_dir=data, config=config)
        try:
            await api.wait_for("getUpdates", within=60)
            await asyncio.sleep(3)  # the console's input has long ended
            assert bot.poll() is None, (data / "bot.out").read_text()
            api.push_message(chat_id=77, user_id=77, text="/video a red ball --seed 1")
            [reply] = await api.wait_for("sendMessage", within=30)
            assert reply.params["text"].startswith("Job #1 queued")
            os.killpg(bot.pid, signal.SIGINT)
            assert await asyncio.to_thread(bot.wait, 60) == 0
        finally:
            stop(bot)
    log = (data / "logs" / "videobot.log").read_text()
    assert "the console chat has ended; still serving: telegram" in log


def test_one_ctrl_c_hands_the_job_back_and_marks_the_worker_gone(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model, queue=QUICK_QUEUE,
                          worker={"shutdown_grace_seconds": GRACE_S})
    data = tmp_path / "d"
    # The console reads a pipe that stays open, as a terminal would.
    bot = start_in_own_group("run", data_dir=data, config=config, stdin=subprocess.PIPE)
    try:
        worker = supervised_worker(config, data)
        assert bot.stdin is not None
        bot.stdin.write(" ".join(["/video a slow ball", *SLOW, "\n"]).encode())
        bot.stdin.flush()
        wait_until(lambda: rendering(config, data, 1), 90, "the render to start")
        os.killpg(bot.pid, signal.SIGINT)  # what Ctrl-C at a terminal does
        started = time.monotonic()
        assert bot.wait(GRACE_S + 10) == 0
        assert time.monotonic() - started < GRACE_S
    finally:
        stop(bot)
    job = job_state(config, data, 1)
    # Back in the queue at once, not left running under a lease of a dead worker, and the
    # attempt does not count as a crash.
    assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)
    assert not alive(worker.pid)
    [row] = workers(config, data)
    assert row.state(datetime.now(UTC), timedelta(seconds=3)) == "gone"
    listing = videobot("admin", "workers", data_dir=data, config=config).stdout
    assert f"(pid {worker.pid}, v" in listing and "gone (exited" in listing


def test_a_second_ctrl_c_exits_at_once(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model, queue=QUICK_QUEUE,
                          worker={"shutdown_grace_seconds": GRACE_S})
    data = tmp_path / "d"
    bot = start_in_own_group("run", data_dir=data, config=config, stdin=subprocess.PIPE)
    worker = None
    try:
        worker = supervised_worker(config, data)
        # A worker that does not answer keeps the graceful stop waiting for it.
        os.kill(worker.pid, signal.SIGSTOP)
        os.killpg(bot.pid, signal.SIGINT)
        time.sleep(1.0)
        assert bot.poll() is None  # waiting for the worker, up to the grace period
        os.killpg(bot.pid, signal.SIGINT)
        started = time.monotonic()
        assert bot.wait(10) == 128 + signal.SIGINT
        assert time.monotonic() - started < 3
        # The worker, woken, finds its supervisor gone and exits by itself.
        os.kill(worker.pid, signal.SIGCONT)
        wait_until(lambda: not alive(worker.pid), 30, "the orphaned worker to exit")
    finally:
        if worker is not None and alive(worker.pid):
            os.kill(worker.pid, signal.SIGCONT)
        stop(bot)
    assert "second stop signal: exiting now" in (data / "logs" / "videobot.log").read_text()


def test_a_killed_bot_takes_its_worker_along_but_not_one_started_by_hand(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model, queue=QUICK_QUEUE,
                          console={"enabled": False})
    # A worker started by hand on the same database, for the other preset only: it must
    # outlive the bot, and cannot take the job the bot's worker hands back.
    other = write_config(tmp_path / "other.toml", tiny_model, "other", queue=QUICK_QUEUE)
    data = tmp_path / "d"
    bot = start_in_own_group("run", data_dir=data, config=config)  # setsid videobot run &
    by_hand = None
    try:
        supervised = supervised_worker(config, data)
        by_hand = start("worker", data_dir=data, config=other, log=tmp_path / "hand.log")
        wait_until(lambda: any(w.pid == by_hand.pid and w.status == "ready"
                               for w in workers(config, data)), 90, "the hand-started worker")
        job_id = int(videobot("submit", "a slow ball", *SLOW, data_dir=data,
                              config=config).stdout)
        wait_until(lambda: rendering(config, data, job_id), 90, "the bot's worker to render")
        assert job_state(config, data, job_id).worker_id == supervised.id
        os.killpg(bot.pid, signal.SIGKILL)
        bot.wait(10)
        wait_until(lambda: not alive(supervised.pid), 30, "the bot's worker to exit")
        # Handed back at once: waiting again, the attempt not counted, no dead lease on it.
        job = job_state(config, data, job_id)
        assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)
        assert by_hand.poll() is None
        states = {w.pid: w.state(datetime.now(UTC), timedelta(seconds=3))
                  for w in workers(config, data)}
        assert states == {supervised.pid: "gone", by_hand.pid: "ready"}
        # The hand-started worker killed too: lost once its lease has passed, never "ready".
        os.kill(by_hand.pid, signal.SIGKILL)
        by_hand.wait(10)
        time.sleep(QUICK_QUEUE["lease_seconds"] + 0.5)
        states = {w.pid: w.state(datetime.now(UTC), timedelta(seconds=3))
                  for w in workers(config, data)}
        assert states == {supervised.pid: "gone", by_hand.pid: "lost"}
        listing = videobot("admin", "workers", data_dir=data, config=config).stdout
        assert "lost (no heartbeat for" in listing and "gone (exited" in listing
        assert "ready" not in listing
    finally:
        stop(bot)
        if by_hand is not None and by_hand.poll() is None:
            by_hand.kill()
            by_hand.wait(10)
