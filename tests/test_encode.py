"""The MP4 encoder, checked by decoding its files back with PyAV."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from videobot.media import encode, fit
from videobot.media.clip import ClipTooLarge, EncodedClip
from videobot.media.encode import encode_clip
from videobot.media.fit import fit_to_upload_limit
from videobot.media.frames import Frames


def gradient(count: int, height: int, width: int) -> Frames:
    """A smooth clip that moves a little each frame, like a model's output."""
    t, y, x = np.meshgrid(np.arange(count), np.arange(height), np.arange(width), indexing="ij")
    rgb = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), t * 8], -1)
    return (rgb % 256).astype(np.uint8)


def noise(count: int, height: int, width: int) -> Frames:
    """A clip that does not compress."""
    return np.random.default_rng(0).integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def encode_into(
    folder: Path,
    frames: Frames,
    fps: int = 8,
    *,
    max_bytes: int | None = None,
    upscale_to: tuple[int, int] | None = None,
) -> EncodedClip:
    video, poster = folder / "clip.mp4", folder / "clip.jpg"
    return encode_clip(frames, fps, video, poster, max_bytes=max_bytes, upscale_to=upscale_to)


@dataclass(frozen=True)
class Decoded:
    """What a player sees in an MP4 (read while the file is open: PyAV objects die with it)."""

    codec: str
    profile: str | None
    pix_fmt: str | None
    width: int
    height: int
    average_rate: Fraction | None
    guessed_rate: Fraction | None
    declared_frames: int
    frames: list[Frames]
    #: Each frame's presentation time and duration, in seconds.
    times: list[Fraction]
    durations: list[Fraction]


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        decoded = list(container.decode(stream))
        return Decoded(
            codec=ctx.name,
            profile=ctx.profile,
            pix_fmt=ctx.pix_fmt,
            width=stream.width,
            height=stream.height,
            average_rate=stream.average_rate,
            guessed_rate=stream.guessed_rate,
            declared_frames=stream.frames,
            frames=[np.asarray(frame.to_ndarray(format="rgb24"), np.uint8) for frame in decoded],
            times=[seconds(frame.pts, frame.time_base) for frame in decoded],
            durations=[seconds(frame.duration, frame.time_base) for frame in decoded],
        )


def seconds(ticks: int | None, time_base: Fraction | None) -> Fraction:
    assert ticks is not None and time_base is not None
    return ticks * time_base


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, offset = path.read_bytes(), [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8, "64-bit and to-end-of-file box sizes are not expected here"
        boxes.append(kind.decode("ascii"))
        offset += size
    return boxes


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fps", [8, 16, 24])
def test_decodes_as_h264_yuv420p_at_the_requested_fps(tmp_path: Path, fps: int) -> None:
    clip = encode_into(tmp_path, gradient(20, 48, 64), fps)

    video = decode(clip.video_path)
    assert (video.codec, video.profile, video.pix_fmt) == ("h264", "High", "yuv420p")
    assert (video.width, video.height) == (64, 48)
    assert video.average_rate == video.guessed_rate == fps
    assert len(video.frames) == video.declared_frames == 20
    assert video.times == [Fraction(index, fps) for index in range(20)]
    assert video.durations == [Fraction(1, fps)] * 20
    assert clip == EncodedClip(
        video_path=tmp_path / "clip.mp4",
        poster_path=tmp_path / "clip.jpg",
        width=64,
        height=48,
        frames=20,
        fps=fps,
        duration_s=20 / fps,
        size_bytes=clip.video_path.stat().st_size,
    )


def test_moov_comes_before_mdat_for_streaming(tmp_path: Path) -> None:
    clip = encode_into(tmp_path, gradient(16, 32, 32))

    boxes = top_level_boxes(clip.video_path)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_poster_is_a_jpeg_of_the_middle_frame_at_video_size(tmp_path: Path) -> None:
    frames = np.zeros((9, 32, 48, 3), np.uint8)
    frames[4] = (200, 50, 30)
    clip = encode_into(tmp_path, frames)

    with Image.open(clip.poster_path) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (48, 32)
        assert np.abs(np.asarray(poster, np.int16) - (200, 50, 30)).max() < 8


def test_odd_sizes_are_padded_by_repeating_the_edge(tmp_path: Path) -> None:
    frames = np.zeros((4, 17, 33, 3), np.uint8)
    frames[:, :, 16:] = (0, 0, 255)  # right half blue, so a repeated edge column is blue
    frames[:, -1] = (255, 255, 255)  # bottom row white, so a repeated edge row is white
    clip = encode_into(tmp_path, frames)

    video = decode(clip.video_path)
    assert (clip.width, clip.height) == (video.width, video.height) == (34, 18)
    rgb = video.frames[0].astype(np.int16)
    assert np.abs(rgb[4, 33] - (0, 0, 255)).max() < 40
    assert np.abs(rgb[17, 4] - (255, 255, 255)).max() < 40


@pytest.mark.parametrize(("size", "even_size"), [((256, 256), (256, 256)), ((99, 51), (100, 52))])
def test_upscale_to_resizes_before_encoding(
    tmp_path: Path, size: tuple[int, int], even_size: tuple[int, int]
) -> None:
    clip = encode_into(tmp_path, gradient(16, 16, 16), upscale_to=size)

    video = decode(clip.video_path)
    assert (clip.width, clip.height) == (video.width, video.height) == even_size
    assert len(video.frames) == 16
    with Image.open(clip.poster_path) as poster:
        assert poster.size == even_size


def test_leaves_only_the_clip_and_poster_behind(tmp_path: Path) -> None:
    encode_into(tmp_path, gradient(8, 16, 16))
    encode_into(tmp_path, gradient(8, 16, 16))  # overwriting works too

    assert files_in(tmp_path) == ["clip.jpg", "clip.mp4"]


def test_a_failed_encode_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(av.error.ExternalError):  # wider than H.264 allows
        encode_into(tmp_path, np.zeros((2, 2, 20000, 3), np.uint8))

    assert files_in(tmp_path) == []


def test_a_crash_mid_encode_keeps_the_previous_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"previous clip")
    real_yuv_frame = encode._yuv_frame

    def crash_at_frame_5(rgb: Frames, pts: int) -> av.VideoFrame:
        if pts == 5:
            raise OSError("disk full")
        return real_yuv_frame(rgb, pts)

    monkeypatch.setattr(encode, "_yuv_frame", crash_at_frame_5)
    with pytest.raises(OSError, match="disk full"):
        encode_into(tmp_path, gradient(8, 16, 16))

    assert files_in(tmp_path) == ["clip.mp4"]
    assert (tmp_path / "clip.mp4").read_bytes() == b"previous clip"


@pytest.mark.parametrize(
    ("frames", "fps", "message"),
    [
        (np.zeros((0, 16, 16, 3), np.uint8), 8, "empty"),
        (np.zeros((4, 16, 16, 3), np.float32), 8, "uint8"),
        (np.zeros((4, 16, 16), np.uint8), 8, "uint8"),
        (np.zeros((4, 16, 16, 3), np.uint8), 0, "fps"),
    ],
)
def test_rejects_bad_input(tmp_path: Path, frames: Frames, fps: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_into(tmp_path, frames, fps)
    assert files_in(tmp_path) == []


def test_fit_returns_a_clip_under_the_limit_unchanged(tmp_path: Path) -> None:
    frames = gradient(8, 16, 16)
    clip = encode_into(tmp_path, frames)

    assert fit_to_upload_limit(clip, clip.size_bytes, tmp_path / "fit.mp4") is clip
    assert files_in(tmp_path) == ["clip.jpg", "clip.mp4"]


def test_fit_lowers_the_bitrate_of_an_incompressible_clip(tmp_path: Path) -> None:
    frames = noise(48, 256, 256)
    clip = encode_into(tmp_path, frames, 24)
    limit = clip.size_bytes // 2

    fitted = fit_to_upload_limit(clip, limit, tmp_path / "fit.mp4")

    assert fitted.size_bytes == (tmp_path / "fit.mp4").stat().st_size <= limit
    assert fitted.note == f"re-encoded at a lower bitrate to fit the {limit} bytes upload limit"
    video = decode(fitted.video_path)
    assert (video.width, video.height, len(video.frames), video.average_rate) == (256, 256, 48, 24)
    assert "moov" in top_level_boxes(fitted.video_path)[:2]


def test_a_tight_limit_halves_the_size_and_says_so(tmp_path: Path) -> None:
    clip = encode_into(tmp_path, noise(48, 256, 256), 24, max_bytes=20_000)

    assert clip.size_bytes == clip.video_path.stat().st_size <= 20_000
    assert (clip.width, clip.height) == (128, 128)
    assert clip.note == "re-encoded at 128x128 to fit the 20000 bytes upload limit"
    video = decode(clip.video_path)
    assert (video.width, video.height, len(video.frames)) == (128, 128, 48)
    with Image.open(clip.poster_path) as poster:
        assert poster.size == (128, 128)
    assert files_in(tmp_path) == ["clip.jpg", "clip.mp4"]


def test_an_impossible_limit_raises_and_keeps_the_clip(tmp_path: Path) -> None:
    frames = gradient(16, 64, 64)
    clip = encode_into(tmp_path, frames)
    before = clip.video_path.read_bytes()

    with pytest.raises(ClipTooLarge, match="cannot be made small enough"):
        fit_to_upload_limit(clip, 1000, clip.video_path)

    assert clip.video_path.read_bytes() == before
    assert files_in(tmp_path) == ["clip.jpg", "clip.mp4"]


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (10 * 2**20, "10 MiB"),
        (50_000_000, "50 MB"),
        (8 * 2**10, "8 KiB"),
        (123_456, "123456 bytes"),
    ],
)
def test_the_note_names_the_limit_as_people_know_it(limit: int, shown: str) -> None:
    clip = EncodedClip(Path("a.mp4"), Path("a.jpg"), 640, 360, 48, 24, 2.0, limit)

    assert fit._fit_note(clip, clip, limit) == (
        f"re-encoded at a lower bitrate to fit the {shown} upload limit"
    )


def test_a_faster_x264_preset_writes_more_bits_and_an_unknown_one_is_refused(
    tmp_path: Path,
) -> None:
    frames = noise(8, 64, 64) // 4 + gradient(8, 64, 64) // 2
    fast = encode_clip(frames, 8, tmp_path / "f.mp4", tmp_path / "f.jpg", speed="ultrafast")
    default = encode_clip(frames, 8, tmp_path / "d.mp4", tmp_path / "d.jpg")
    assert fast.size_bytes > default.size_bytes
    with pytest.raises(ValueError, match="speed must be one of ultrafast"):
        encode_clip(frames, 8, tmp_path / "x.mp4", tmp_path / "x.jpg", speed="warp")
