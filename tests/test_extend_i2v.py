"""Extending a clip with an image-to-video family's pipeline (tiny and random, built offline):
the clip's last frame reaches the pipeline as its picture at the request's size, and one clip
comes back, the original unchanged and then the continuation without its repeated first
frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.backends.diffusers_backend import DiffusersBackend
from generator.extending import render_extension
from tests.test_image_to_video_backends import recording
from tests.test_image_to_video_backends import request as i2v_request
from videobot.config import PresetConfig

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize("name", ["tiny-wan-i2v", "tiny-ltx"])
def test_an_image_to_video_model_continues_a_clip_from_its_last_frame(
    tmp_path: Path, name: str
) -> None:
    backend = DiffusersBackend.load(PresetConfig(model=f"builtin:{name}"), device="cpu",
                                    models_dir=tmp_path)
    ask = i2v_request(name)
    source = np.random.default_rng(5).integers(0, 256, (7, ask.height, ask.width, 3),
                                               dtype=np.uint8)
    processor = recording(backend)
    try:
        clip = render_extension(backend, ask, source, lambda _s, _t: None, lambda: False)
    finally:
        backend.close()
    image, height, width = processor.seen[0]
    assert isinstance(image, Image.Image)
    assert (image.size, height, width) == ((ask.width, ask.height), ask.height, ask.width)
    assert np.array_equal(np.asarray(image), source[-1])
    assert clip.shape == (7 + ask.frames - 1, ask.height, ask.width, 3)
    assert np.array_equal(clip[:7], source)
