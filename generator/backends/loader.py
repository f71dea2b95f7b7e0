"""Make the backend a preset names. Heavy imports happen here, on first use, not at import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from generator.backends.base import Backend
from videobot.config import PresetConfig

Loader = Callable[[PresetConfig], Backend]


def load_backend(preset: PresetConfig, *, device: str, models_dir: Path) -> Backend:
    """Load `preset`'s model onto `device`; builtin models are built into `models_dir`."""
    if preset.backend == "demo":
        from generator.backends.demo.backend import DemoBackend

        return DemoBackend.load(preset, device=device, models_dir=models_dir)
    from generator.backends.diffusers_backend import DiffusersBackend

    return DiffusersBackend.load(preset, device=device, models_dir=models_dir)


class BackendCache:
    """One resident backend per preset, kept across jobs for the life of the worker."""

    def __init__(self, *, device: str, models_dir: Path, loader: Loader | None = None) -> None:
        self.device = device
        self._load = loader or (
            lambda preset: load_backend(preset, device=device, models_dir=models_dir)
        )
        self._loaded: dict[str, Backend] = {}

    def get(self, preset: PresetConfig) -> Backend:
        if preset.name not in self._loaded:
            self._loaded[preset.name] = self._load(preset)
        return self._loaded[preset.name]

    def close(self) -> None:
        for backend in self._loaded.values():
            backend.close()
        self._loaded.clear()
