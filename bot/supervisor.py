"""Start the local generator processes, one per configured device, and restart one that dies.

Each worker runs in a session of its own, so that a terminal's Ctrl-C (sent to the whole
foreground process group) and hang-up reach the bot only; the bot then stops its workers once.
A worker's standard input is a pipe from this process: closing it stops the worker at once,
handing its job back to the queue, and the kernel closes it when this process dies, even by
SIGKILL, so a worker never outlives its bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from videobot.config import Config

log = logging.getLogger(__name__)


class WorkerSupervisor:
    """Owns the worker subprocesses of `videobot run`."""

    def __init__(self, *, config: Config, config_path: Path | None) -> None:
        self.config = config
        self.config_path = config_path
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def command(self, device: str) -> list[str]:
        """The command line of the worker for `device`."""
        args = [sys.executable, "-m", "generator", "worker", "--device", device, "--supervised",
                "--data-dir", str(self.config.data_dir)]
        if self.config_path is not None:
            args += ["--config", str(self.config_path)]
        return args

    async def start(self) -> None:
        log_dir = self.config.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for device in self.config.worker.devices:
            self._tasks.append(asyncio.create_task(self._keep_running(device, log_dir)))

    async def _keep_running(self, device: str, log_dir: Path) -> None:
        log_path = log_dir / f"worker-{device.replace(':', '-')}.log"
        while not self._stopping:
            with log_path.open("ab") as log_file:
                process = await asyncio.create_subprocess_exec(
                    *self.command(device), stdin=asyncio.subprocess.PIPE,
                    stdout=log_file, stderr=log_file, start_new_session=True,
                )
            self.processes[device] = process
            log.info("worker for %s started (pid %s)", device, process.pid)
            code = await process.wait()
            if self._stopping:
                return
            log.warning("worker for %s exited with %s; restarting (log: %s)",
                        device, code, log_path)
            await asyncio.sleep(self.config.worker.restart_delay_seconds)

    async def stop(self) -> None:
        """Close every worker's pipe (each hands its job back and exits), wait up to
        `worker.shutdown_grace_seconds`, then SIGKILL what has not exited."""
        self._stopping = True
        for process in self.processes.values():
            if process.stdin is not None:
                process.stdin.close()
        grace = self.config.worker.shutdown_grace_seconds
        deadline = asyncio.get_running_loop().time() + grace
        for device, process in self.processes.items():
            left = max(0.0, deadline - asyncio.get_running_loop().time())
            try:
                await asyncio.wait_for(process.wait(), left)
            except TimeoutError:
                log.warning("worker for %s did not stop within %g s; killing it", device, grace)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
