"""A clips folder that cannot take the clip: full, or read-only. A real `videobot worker`
runs in its own user and mount namespaces (no root needed) with a small tmpfs mounted on its
clips folder, filled up with a ballast file or remounted read-only; the test then frees it.

The user is told the server could not store the clip (not that the model failed), the admins
once (one error in the log, and `/admin stats`), and the worker claims nothing until the
folder takes files again, then carries on by itself. (The read-only remount after the full
disk also shows that a failed encode leaves no file open there: a leaked descriptor makes the
remount fail as "busy", and would hold the space of its deleted file.)"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from generator.finishing import RENDER_FAILED, STORAGE_FAILED
from storage.admin import AdminStore
from storage.connect import close_store, open_store
from tests.processes import ROOT, command, environment, videobot, wait_until
from tests.test_processes import job_state, write_config
from videobot.config import load_config
from videobot.params import RenderRequest
from videobot.users import UserRef

pytestmark = pytest.mark.timeout(240)

#: Mount a small tmpfs on $CLIPS and run the worker; a helper (in the same namespaces) acts
#: on the files the test puts in $CONTROL (outside the tmpfs): fill it up with a ballast file,
#: free it, remount it read-only, make it writable again.
CONFINE = r"""
set -e
mount -t tmpfs -o size=2m tmpfs "$CLIPS"
worker=$$
(
  set +e
  while kill -0 "$worker" 2>/dev/null; do
    for order in "$CONTROL"/*; do
      case "$order" in
        */fill) cat /dev/zero > "$CLIPS/.ballast" 2>/dev/null || true ;;
        */free) rm -f "$CLIPS/.ballast" ;;
        */read-only) mount -o remount,ro "$CLIPS" ;;
        */writable) mount -o remount,rw "$CLIPS" ;;
        *) continue ;;
      esac
      rm -f "$order"
    done
    sleep 0.1
  done
) &
exec "$@"
"""
#: The fault, what the admins read about it, and the order that ends it.
FAULTS = (("fill", "No space left on device", "free"),
          ("read-only", "Read-only file system", "writable"))


async def enqueue(config_path: Path, data: Path, prompt: str) -> int:
    store = await open_store(load_config(config_path, data_dir=data))
    try:
        job = await store.submissions.enqueue(UserRef("console", "local"), RenderRequest(
            prompt=prompt, negative_prompt="", frames=8, fps=8, width=64, height=64, steps=4,
            guidance=7.5, seed=1, preset="tiny"), max_queued_per_user=5, cost=1.0)
        return job.id
    finally:
        await close_store(store)


async def worker_problems(config_path: Path, data: Path) -> list[tuple[str, str, object]]:
    store = await open_store(load_config(config_path, data_dir=data))
    try:
        return (await AdminStore(store.context).stats(store.clock() - timedelta(hours=1))
                ).worker_problems
    finally:
        await close_store(store)


def namespaces_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--user", "--map-root-user", "--mount", "true"]
    return subprocess.run(probe, capture_output=True).returncode == 0


needs_namespaces = pytest.mark.skipif(
    not namespaces_available(),
    reason="needs unshare and user namespaces (util-linux; kernel.unprivileged_userns_clone)")


def start_confined_worker(config: Path, data: Path, log: Path) -> subprocess.Popen[bytes]:
    clips, control = data / "clips", data / "control"
    clips.mkdir(parents=True, exist_ok=True)
    control.mkdir(exist_ok=True)
    env = environment() | {"CLIPS": str(clips), "CONTROL": str(control)}
    confined = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", CONFINE, "sh",
                *command("worker", data_dir=data, config=config)]
    with log.open("ab") as out:
        return subprocess.Popen(confined, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT, env=env)


def order(data: Path, what: str) -> None:
    """Have the helper act on the clips folder, and wait until it has."""
    flag = data / "control" / what
    flag.touch()
    wait_until(lambda: not flag.exists(), 30, f"the clips folder to be made {what}")


@needs_namespaces
def test_a_folder_that_cannot_take_clips_fails_one_job_and_pauses_claiming(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model, storage={"clips": "database"},
                          queue={"poll_interval_seconds": 0.3}, quotas={"credits": 1000})
    data, log = tmp_path / "d", tmp_path / "worker.log"
    worker = start_confined_worker(config, data, log)
    try:
        for episode, (fault, reason, fix) in enumerate(FAULTS, start=1):
            order(data, fault)
            first = asyncio.run(enqueue(config, data, f"a red ball {fault}"))
            wait_until(lambda j=first: job_state(config, data, j).status == "failed", 120,
                       "the job to fail")
            failed = job_state(config, data, first)
            assert failed.error == STORAGE_FAILED and failed.error != RENDER_FAILED
            assert failed.clip is None
            # The admins: told once in the log, and by /admin stats while it lasts.
            [(_, problem, _)] = asyncio.run(worker_problems(config, data))
            assert problem.startswith("cannot write clips to") and reason in problem
            if episode == 1:
                stats = videobot("admin", "stats", data_dir=data, config=config).stdout
                assert f"{problem} (since" in stats
            second = asyncio.run(enqueue(config, data, f"a blue ball {fault}"))
            time.sleep(2.0)  # several poll intervals: nothing is claimed while it lasts
            waiting = job_state(config, data, second)
            assert (waiting.status, waiting.attempts) == ("queued", 0)
            assert log.read_text().count("this worker claims no job until") == episode
            order(data, fix)
            wait_until(lambda j=second: job_state(config, data, j).status == "succeeded",
                       120, "the worker to carry on once the folder takes files")
            assert log.read_text().count("can be written again") == episode
            assert asyncio.run(worker_problems(config, data)) == []
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
