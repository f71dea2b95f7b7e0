"""`videobot generate`: one clip, no bot and no queue."""

from __future__ import annotations

from pathlib import Path

from generator.backends.loader import load_backend
from videobot.config import Config
from videobot.media.clip import EncodedClip
from videobot.media.encode import encode_clip
from videobot.params import RenderRequest


def render_to_file(config: Config, request: RenderRequest, out: Path,
                   *, device: str | None = None) -> EncodedClip:
    """Render `request` with its preset's model and write `out` and its poster (`.jpg`)."""
    preset = config.preset(request.preset)
    backend = load_backend(preset, device=device or config.worker.devices[0],
                           models_dir=config.data_dir / "models")
    try:
        frames = backend.generate(request, lambda _step, _total: None, lambda: False)
    finally:
        backend.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    return encode_clip(frames, request.fps, out, out.with_suffix(".jpg"),
                       speed=preset.x264_preset)
