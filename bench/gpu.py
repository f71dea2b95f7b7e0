"""The vanilla diffusers pipeline against videobot's backend with the preset's speed-ups.

Same model, prompt, size, frames, steps and seed. For each: seconds per clip (median of
--runs after one untimed warm-up run, so compilation is not counted), peak GPU memory, and
at the end the speed-up ratio and how far the clips differ (mean absolute pixel difference,
0-255: caches and fp8 trade some fidelity for speed).

    .venv/bin/python bench/gpu.py                        # tiny random Wan on this CPU
    .venv/bin/python bench/gpu.py --config my.toml --preset wan --device cuda:0

With no --config it runs a tiny random Wan pipeline with a first-block cache on the CPU, so
that the script is known to work; its figures say nothing about real models, and it prints
"no GPU" where a GPU figure would go.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from diffusers import DiffusionPipeline  # noqa: E402
from diffusers.utils import logging as diffusers_logging  # noqa: E402

from generator.backends.diffusers_backend import (  # noqa: E402
    DiffusersBackend,
    resolve_model,
    to_uint8_frames,
    torch_dtype,
)
from videobot.config import PresetConfig, load_config  # noqa: E402
from videobot.params import RenderRequest  # noqa: E402

PROMPT = "a red fox running through fresh snow, golden hour"
TINY = PresetConfig(name="tiny-wan", model="builtin:tiny-wan", family="wan", frames=9,
                    fps=16, width=64, height=64, steps=8, guidance=5.0,
                    cache="first-block", cache_threshold=0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="videobot config with the preset")
    parser.add_argument("--preset", help="preset name (default: the config's default)")
    parser.add_argument("--device", help="torch device (default: cuda:0 if any, else cpu)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "videobot-data")
    args = parser.parse_args()
    diffusers_logging.disable_progress_bar()
    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    if args.config:
        config = load_config(args.config, data_dir=args.data_dir)
        preset = config.preset(args.preset)
    else:
        preset = TINY
    models_dir = args.data_dir / "models"
    request = RenderRequest(prompt=PROMPT, negative_prompt=preset.negative_prompt,
                            frames=preset.frames, fps=preset.fps, width=preset.width,
                            height=preset.height, steps=preset.steps,
                            guidance=preset.guidance, seed=42, preset=preset.name)
    print(f"preset {preset.name} ({preset.model}) on {device}, torch {torch.__version__}: "
          f"{request.frames} frames {request.width}x{request.height}, {request.steps} steps")
    print(f"speed-ups: {describe(preset)}")

    vanilla_s, vanilla_peak, vanilla_clip = measure(
        lambda: vanilla_pipeline(preset, device, models_dir), vanilla_call(request),
        args.runs, device)
    ours_s, ours_peak, ours_clip = measure(
        lambda: DiffusersBackend.load(preset, device=device, models_dir=models_dir),
        videobot_call(request), args.runs, device)

    print(f"{'':10} {'s/clip':>8} {'peak GPU':>10}")
    print(f"{'vanilla':10} {vanilla_s:8.2f} {vanilla_peak:>10}")
    print(f"{'videobot':10} {ours_s:8.2f} {ours_peak:>10}")
    print(f"speed-up: {vanilla_s / ours_s:.2f}x; mean |pixel difference| vs vanilla: "
          f"{np.abs(vanilla_clip.astype(int) - ours_clip.astype(int)).mean():.1f} / 255")


def describe(preset: PresetConfig) -> str:
    options = [f"dtype {preset.dtype}"]
    options += [f"offload {preset.offload}"] if preset.offload != "none" else []
    options += ["VAE tiling"] if preset.vae_tiling else []
    options += ["fp8 weights"] if preset.fp8_weights else []
    options += [f"compile {preset.compile}"] if preset.compile != "none" else []
    options += [f"attention {preset.attention_backend}"] if preset.attention_backend else []
    if preset.cache != "none":
        options.append(f"cache {preset.cache} ({preset.cache_threshold:g})")
    return ", ".join(options)


def vanilla_pipeline(preset: PresetConfig, device: str, models_dir: Path) -> Any:
    """The pipeline as diffusers' model card loads it: dtype, on the device, nothing else."""
    pipe = DiffusionPipeline.from_pretrained(resolve_model(preset.model, models_dir),
                                             dtype=torch_dtype(preset.dtype, device))
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def vanilla_call(request: RenderRequest) -> Callable[[Any], np.ndarray]:
    def call(pipe: Any) -> np.ndarray:
        output = pipe(prompt=request.prompt, num_frames=request.frames, height=request.height,
                      width=request.width, num_inference_steps=request.steps,
                      guidance_scale=request.guidance, output_type="np",
                      generator=torch.Generator("cpu").manual_seed(request.seed))
        return to_uint8_frames(output.frames)

    return call


def videobot_call(request: RenderRequest) -> Callable[[Any], np.ndarray]:
    def call(backend: Any) -> np.ndarray:
        return backend.generate(request, lambda _s, _t: None, lambda: False)

    return call


def measure(load: Callable[[], Any], call: Callable[[Any], np.ndarray], runs: int,
            device: str) -> tuple[float, str, np.ndarray]:
    """(median seconds per clip, peak GPU memory, the last clip)."""
    model = load()
    call(model)  # warm-up: compilation, cudnn autotuning, allocator growth
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        clip = call(model)
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - started)
    peak = (f"{torch.cuda.max_memory_allocated(device) / 1024**3:.1f} GiB"
            if device.startswith("cuda") else "no GPU")
    del model
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return statistics.median(times), peak, clip


if __name__ == "__main__":
    main()
