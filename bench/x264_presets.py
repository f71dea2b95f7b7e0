"""What x264's speed presets cost and save here: seconds to encode a clip and its bits per
pixel at one CRF, and the quality it kept (PSNR of the decoded clip against its frames), for
each preset, on one thread and on all the CPU's cores.

Two clips of Wan 2.1's native size (81 frames, 832x480): a high-entropy one (fine texture
panning under the camera, with film grain: the hard case, like a detailed real render) and a
smooth one (soft gradients and a moving blob: the easy case). CRF aims at one quality
whatever the preset, so the bits per pixel say what a faster preset costs in file size, and
the PSNR whether it kept its aim.

    .venv/bin/python bench/x264_presets.py [--frames 81 --width 832 --height 480 --crf 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import av  # noqa: E402
import numpy as np  # noqa: E402

from videobot.config import X264_PRESETS  # noqa: E402
from videobot.media.encode import encode_clip  # noqa: E402


def textured(frames: int, height: int, width: int) -> np.ndarray:
    """Fine multi-scale texture panning diagonally, plus per-frame grain."""
    rng = np.random.default_rng(1)
    size = max(height, width) + 4 * frames
    canvas = np.zeros((size, size, 3), np.float32)
    for scale in (1, 2, 4, 8, 16):
        cells = rng.normal(0, 1, (size // scale + 1, size // scale + 1, 3)).astype(np.float32)
        canvas += np.kron(cells, np.ones((scale, scale, 1), np.float32))[:size, :size] * scale
    canvas = (canvas - canvas.min()) / (canvas.max() - canvas.min()) * 255
    clip = np.stack([canvas[2 * t:2 * t + height, 3 * t:3 * t + width] for t in range(frames)])
    grain = rng.normal(0, 6, clip.shape).astype(np.float32)
    return np.clip(clip + grain, 0, 255).astype(np.uint8)


def smooth(frames: int, height: int, width: int) -> np.ndarray:
    """Soft gradients with a blurred blob moving across them."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    clip = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        cx, cy = width * (0.2 + 0.6 * t / frames), height * 0.5
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (height / 8) ** 2))
        clip[t, ..., 0] = 60 + 120 * x / width + 60 * blob
        clip[t, ..., 1] = 40 + 100 * y / height + 80 * blob
        clip[t, ..., 2] = 120 + 80 * blob
    return clip


def measure(frames: np.ndarray, speed: str, threads: int, crf: int, runs: int,
            folder: Path) -> tuple[float, float, float]:
    """(median seconds, bits per pixel, PSNR in dB) of encoding `frames`."""
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        clip = encode_clip(frames, 16, folder / "c.mp4", folder / "c.jpg", crf=crf,
                           speed=speed, threads=threads)
        times.append(time.perf_counter() - started)
        size = clip.size_bytes
    count, height, width, _ = frames.shape
    return (statistics.median(times), size * 8 / (count * height * width),
            psnr(frames, folder / "c.mp4"))


def psnr(frames: np.ndarray, video: Path) -> float:
    """Peak signal-to-noise ratio of the decoded `video` against `frames`, in dB."""
    with av.open(str(video)) as container:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    error = np.mean((decoded.astype(np.float64) - frames.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / error))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--crf", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presets", nargs="*", default=list(X264_PRESETS[:7]))
    args = parser.parse_args()
    clips = {"high-entropy": textured(args.frames, args.height, args.width),
             "smooth": smooth(args.frames, args.height, args.width)}
    cores = os.cpu_count() or 1
    print(f"{args.frames} frames {args.width}x{args.height}, CRF {args.crf}, "
          f"{cores} CPU cores; median of {args.runs} runs")
    print(f"{'clip':13} {'preset':10} {'s, 1 thread':>12} {f's, {cores} cores':>12} "
          f"{'bits/pixel':>11} {'PSNR dB':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, frames in clips.items():
            for speed in args.presets:
                one, bpp, quality = measure(frames, speed, 1, args.crf, args.runs,
                                            Path(scratch))
                every, _, _ = measure(frames, speed, 0, args.crf, args.runs, Path(scratch))
                print(f"{name:13} {speed:10} {one:12.2f} {every:12.2f} {bpp:11.4f} "
                      f"{quality:8.2f}")


if __name__ == "__main__":
    main()
