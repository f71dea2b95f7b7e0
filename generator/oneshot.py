"""`videobot generate`: one clip, no bot and no queue (with `--image`, from a picture)."""

from __future__ import annotations

from pathlib import Path

from generator.backends.base import GenerationFailed, Image
from generator.backends.loader import load_backend
from generator.job_image import picture_array
from videobot.cli_args import CliError
from videobot.config import Config, PresetConfig
from videobot.image_presets import takes_picture, takes_text_alone
from videobot.images import BadImage, fit_image
from videobot.media.clip import EncodedClip
from videobot.media.encode import encode_clip
from videobot.params import RenderRequest


def picture_file(path: Path | None, request: RenderRequest, config: Config,
                 preset: PresetConfig) -> tuple[Image | None, list[str]]:
    """The picture at `path` checked and fitted to the request as one sent with a job is (and
    the note saying how), or None without one; `CliError` naming the problem, a preset that
    takes no picture, or one that needs a picture when none is given."""
    if path is None:
        if not takes_text_alone(preset):
            raise CliError(f"the preset {preset.name!r} animates a picture; give one with "
                           f"--image PATH")
        return None, []
    if not takes_picture(preset):
        raise CliError(f"the preset {preset.name!r} takes no picture; leave out --image or "
                       f"choose a preset that animates one")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the picture {str(path)!r} ({exc.strerror or exc})"
                       ) from None
    try:
        fitted = fit_image(data, width=request.width, height=request.height,
                           max_mb=config.limits.max_image_mb)
        return picture_array(fitted.png, request), [fitted.note] if fitted.note else []
    except (BadImage, GenerationFailed) as exc:
        raise CliError(str(exc)) from None


def render_to_file(config: Config, request: RenderRequest, out: Path,
                   *, device: str | None = None, image: Image | None = None) -> EncodedClip:
    """Render `request` with its preset's model (from `image`, when given) and write `out`
    and its poster (`.jpg`); `CliError` when the model refuses the request (a picture the
    demo model cannot read)."""
    preset = config.preset(request.preset)
    backend = load_backend(preset, device=device or config.worker.devices[0],
                           models_dir=config.data_dir / "models")
    try:
        frames = backend.generate(request, lambda _step, _total: None, lambda: False,
                                  image=image)
    except GenerationFailed as exc:
        raise CliError(str(exc)) from None
    finally:
        backend.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    return encode_clip(frames, request.fps, out, out.with_suffix(".jpg"),
                       speed=preset.x264_preset)
