"""Start the local generator processes, one per configured device, and restart one that dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from videobot.config import Config

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0


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
        args = [sys.executable, "-m", "bot.cli", "worker", "--device", device,
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
                    *self.command(device), stdin=asyncio.subprocess.DEVNULL,
                    stdout=log_file, stderr=log_file,
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
        """SIGTERM every worker, then SIGKILL what has not exited in time."""
        self._stopping = True
        for process in self.processes.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
