"""Make the backend a preset names, and keep one resident per worker. Heavy imports happen
here, on first use, not at import."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from generator.backends.base import Backend
from videobot.config import PresetConfig

log = logging.getLogger(__name__)

Loader = Callable[[PresetConfig], Backend]


def load_backend(preset: PresetConfig, *, device: str, models_dir: Path) -> Backend:
    """Load `preset`'s model onto `device`; builtin models are built into `models_dir`."""
    if preset.backend == "demo":
        from generator.backends.demo.backend import DemoBackend

        return DemoBackend.load(preset, device=device, models_dir=models_dir)
    from generator.backends.diffusers_backend import DiffusersBackend

    return DiffusersBackend.load(preset, device=device, models_dir=models_dir)


class ResidentBackend:
    """The one model a worker keeps loaded across jobs. Asking for another preset's model
    unloads the resident one first, so that two never share the device's memory; whether a
    worker may switch at all is the worker's rule (`worker.switch_presets`)."""

    def __init__(self, *, device: str, models_dir: Path, loader: Loader | None = None) -> None:
        self.device = device
        self._load = loader or (
            lambda preset: load_backend(preset, device=device, models_dir=models_dir)
        )
        self._backend: Backend | None = None
        self.preset: str | None = None

    def get(self, preset: PresetConfig) -> Backend:
        if self._backend is None or self.preset != preset.name:
            if self.preset is not None:
                log.info("unloading preset %s to load %s", self.preset, preset.name)
            self.close()
            self._backend = self._load(preset)
            self.preset = preset.name
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
        self._backend, self.preset = None, None
