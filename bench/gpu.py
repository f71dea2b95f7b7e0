"""Every GPU check of videobot in one run, printed as one table.

On a GPU (about 8 minutes on one card): a full-size Wan 2.1 T2V 1.3B with random weights
(the real transformer and VAE configurations, a 2-layer text encoder of the real width; no
download) at 81 frames 832x480, 10 steps:
- the vanilla diffusers pipeline, and videobot's backend as shipped (the example `wan`
  preset's regional compile; its cache only with --caches: random weights say nothing of
  a cache), in seconds per clip and peak GPU memory;
- the same with previews every 5 steps (their cost, as a share of the render);
- the low-memory preset (group offload, VAE tiling, fp8 weights);
- N jobs through a real `videobot worker` against N bare pipeline calls back to back:
  clips per hour, and the share of wall time the GPU was busy (CUDA events around each
  pipeline call);
- the peaks of LTX-Video 2B (121x768x512) and CogVideoX-2b (49x720x480) against
  `videobot doctor`'s estimates.

    .venv/bin/python bench/gpu.py                     # a GPU; without one, as --tiny
    .venv/bin/python bench/gpu.py --tiny              # tiny random models on this CPU
    .venv/bin/python bench/gpu.py --random-weights ltx [--caches]   # another family
    .venv/bin/python bench/gpu.py --config my.toml --preset wan      # your real weights

--tiny only shows that the script works: a model this small says nothing about real ones.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import torch  # noqa: E402
from diffusers.utils import logging as diffusers_logging  # noqa: E402

from bench.gpu_checks import (  # noqa: E402
    Row,
    Setup,
    end_to_end,
    family_peak,
    print_table,
    timed_backend,
    timed_vanilla,
)
from generator.backends.full_size import FULL_SIZE_MODELS, build_full_size  # noqa: E402
from generator.backends.tiny_models import ensure_builtin_model  # noqa: E402
from videobot.config import PresetConfig, load_config  # noqa: E402

#: The example `wan` preset's speed options (config.example.toml) less its cache, which on
#: random weights would measure nothing (see --caches); and the low-memory options.
SHIPPED = {"compile": "regional"}
LOW_MEMORY = {"offload": "group", "vae_tiling": True, "fp8_weights": True}
#: Native sizes of the families measured, and their tiny stand-ins' sizes.
NATIVE = {"wan": (81, 832, 480), "wan-5b": (121, 1280, 704), "ltx": (121, 768, 512),
          "cogvideox": (49, 720, 480), "hunyuan": (61, 960, 544)}
TINY_FRAMES = {"wan": 9, "ltx": 9, "cogvideox": 9, "wan-5b": 9, "hunyuan": 9}
RANDOM_WEIGHTS_WARNING = ("random weights: speed and memory are the real model's; what a cache "
                          "skips depends on the weights, so cache speed-ups here do not "
                          "predict real ones (measure those on real weights)")


def main() -> None:
    args = _arguments()
    diffusers_logging.disable_progress_bar()
    gpu = torch.cuda.is_available() and not args.tiny
    device = args.device or ("cuda:0" if gpu else "cpu")
    with tempfile.TemporaryDirectory(prefix="videobot-gpu-bench-") as scratch:
        models = args.models_dir or Path(scratch) / "models"
        setup = _setup(args, device, gpu, models)
        print(f"{setup.title} on {_device_name(device)}, torch {torch.__version__}: "
              f"{setup.request.frames} frames {setup.request.width}x{setup.request.height}, "
              f"{setup.request.steps} steps")
        if setup.random_weights:
            print(f"note: {RANDOM_WEIGHTS_WARNING}")
        rows = _measure(setup, args, gpu, models, Path(scratch))
    print_table(rows)


def _measure(setup: Setup, args: argparse.Namespace, gpu: bool, models: Path,
             scratch: Path) -> list[Row]:
    vanilla = timed_vanilla(setup, "vanilla diffusers pipeline")
    rows = [vanilla, timed_backend(setup, "videobot as shipped", setup.shipped, vanilla)]
    with_previews = replace(setup.shipped, preview_every_steps=5)
    rows.append(timed_backend(setup, "  with previews every 5 steps", with_previews,
                              rows[1], compared="previews cost", previews=True))
    rows.append(timed_backend(setup, "low memory: group offload, tiling, fp8",
                              replace(setup.shipped, compile="none", **LOW_MEMORY), vanilla))
    if args.caches:
        for cache in ("first-block", "mag", "taylorseer"):
            preset = replace(setup.shipped, cache=cache, cache_threshold=0.0)
            rows.append(timed_backend(setup, f"  cache {cache}", preset, vanilla))
    rows += end_to_end(setup, args.jobs, scratch)
    if not args.config and not args.random_weights:
        for family in ("ltx", "cogvideox"):
            rows.append(family_peak(_family_setup(family, setup.device, gpu, models)))
    return rows


def _setup(args: argparse.Namespace, device: str, gpu: bool, models: Path) -> Setup:
    if args.config:
        config = load_config(args.config, data_dir=args.data_dir)
        preset = config.preset(args.preset)
        return Setup(f"preset {preset.name} ({preset.model})", preset, device, models,
                     runs=args.runs)
    setup = _family_setup(args.random_weights or "wan", device, gpu, models)
    # No torch.compile on a CPU: it would take longer than everything else here.
    shipped = replace(setup.shipped, steps=args.steps,
                      **(SHIPPED if gpu else {**SHIPPED, "compile": "none"}))
    return replace(setup, shipped=shipped, runs=args.runs)


def _family_setup(family: str, device: str, gpu: bool, models: Path) -> Setup:
    frames, width, height = NATIVE[family]
    if gpu:
        folder = build_full_size(family, models / f"full-size-{family}", device=device)
        title = f"{FULL_SIZE_MODELS[family]}, random weights"
    else:
        folder = ensure_builtin_model(_tiny_name(family), models)
        frames, width, height = TINY_FRAMES[family], 64, 64
        title = f"tiny random {family} (CPU)"
    preset = PresetConfig(name=family, model=str(folder), family=family,
                          dtype="bfloat16" if gpu else "float32", frames=frames, width=width,
                          height=height, steps=10, guidance=5.0, max_frames=frames,
                          max_pixels=width * height)
    return Setup(title, preset, device, models, random_weights=gpu)


def _tiny_name(family: str) -> str:
    return {"wan-5b": "tiny-wan22"}.get(family, f"tiny-{family}")


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"the CPU ({device})"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random models on the CPU")
    parser.add_argument("--random-weights", choices=sorted(FULL_SIZE_MODELS),
                        help="measure this family's full-size random pipeline")
    parser.add_argument("--caches", action="store_true",
                        help="also each cache (first-block, mag, taylorseer)")
    parser.add_argument("--config", type=Path, help="videobot config with your preset")
    parser.add_argument("--preset", help="its preset (default: the config's default)")
    parser.add_argument("--device", help="torch device (default: cuda:0 if any, else cpu)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs after a warm-up")
    parser.add_argument("--jobs", type=int, default=3, help="jobs end to end, and bare calls")
    parser.add_argument("--steps", type=int, default=10, help="denoising steps per clip")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "videobot-data")
    parser.add_argument("--models-dir", type=Path,
                        help="keep the built pipelines here (default: a temporary folder)")
    return parser.parse_args()


if __name__ == "__main__":
    main()
