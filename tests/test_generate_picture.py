"""`videobot generate --image PATH`: one clip from a picture with no queue, on the embedded
defaults (the demo model animates the picture's shape); a bad picture, or one given to a
text-only preset, is refused in one line naming the problem, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.processes import videobot
from videobot.media.frames import read_frames

SMALL = ("--width", "64", "--height", "64", "--frames", "8", "--seed", "3")


def blue_square(path: Path, size: tuple[int, int] = (64, 64)) -> Path:
    image = Image.new("RGB", size, (10, 10, 40))
    ImageDraw.Draw(image).rectangle((14, 24, 29, 39), fill=(30, 30, 220))
    image.save(path)
    return path


def blue_centre(frame: np.ndarray) -> tuple[float, float]:
    blue = (frame[..., 2] > 150) & (frame[..., 0] < 100)
    rows, columns = np.nonzero(blue)
    return float(columns.mean()), float(rows.mean())


def test_generate_animates_the_picture_from_where_it_stands(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    result = videobot("generate", "it is moving right", "--image",
                      str(blue_square(tmp_path / "square.png")), "--out", str(out), *SMALL,
                      data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and "seed: 3" in result.stdout
    frames = read_frames(out)
    assert frames.shape == (8, 64, 64, 3)
    first_x, first_y = blue_centre(frames[0])
    assert abs(first_x - 21.5) < 2 and abs(first_y - 31.5) < 2  # the picture's square
    assert blue_centre(frames[-1])[0] > first_x + 10  # moving right
    assert not (tmp_path / "d" / "videobot.db").exists()  # no queue involved


def test_a_picture_is_fitted_to_the_clip_with_a_note(tmp_path: Path) -> None:
    wide = Image.new("RGB", (128, 64), (10, 10, 40))
    ImageDraw.Draw(wide).rectangle((46, 24, 61, 39), fill=(30, 30, 220))
    wide.save(tmp_path / "wide.png")
    result = videobot("generate", "it is moving up", "--image", str(tmp_path / "wide.png"),
                      "--out", str(tmp_path / "clip.mp4"), *SMALL, data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert ("note: the image (128x64) was centre-cropped to the clip's shape and resized to "
            "64x64") in result.stdout


def test_a_bad_or_unwanted_picture_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    (tmp_path / "text.png").write_text("not a picture")
    cases = {
        ("--image", str(tmp_path / "text.png")): "the image is not a PNG, JPEG or WebP file",
        ("--image", str(tmp_path / "missing.png")): "there is no such file",
        ("--image", str(blue_square(tmp_path / "square.png")), "--preset", "tiny"):
            "the preset tiny makes videos from text only, not from a picture; presets that "
            "animate a picture: demo",
    }
    for flags, reason in cases.items():
        result = videobot("generate", "it is moving right", *flags, "--out", str(out), *SMALL,
                          data_dir=tmp_path / "d")
        assert result.returncode == 2, result.stdout
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("videobot: ") and reason in line, line
        assert not out.exists()
