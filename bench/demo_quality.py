"""Quality and speed of the embedded demo model, on held-out and training combinations.

Each clip is generated from a fresh caption of a (shape, colour, motion) combination with
its own seed, then judged by `checker` (colour, motion: measured from the pixels) and by the
captioner (shape; the checker's own shape guess is printed too). Prints accuracies side by
side and the median time to generate one clip at the native 64x64 (video encoding excluded).

    .venv/bin/python bench/demo_quality.py [--per-combo N] [--weights DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from generator.backends.demo import data
from generator.backends.demo.backend import DemoBackend
from generator.backends.demo.captioner import classify
from generator.backends.demo.captions import caption
from generator.backends.demo.checker import judge
from generator.backends.demo.loading import WEIGHTS_DIR, load_generator
from videobot.params import RenderRequest

TARGETS = {"colour": 0.95, "motion": 0.90, "shape": 0.80, "all three": 0.75}
#: Reported beside the targets: the checker's own fill-ratio guess of the shape.
EXTRA = ("shape (checker)",)


def _request(prompt: str, seed: int) -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=16, fps=8, width=64,
                         height=64, steps=4, guidance=1.0, seed=seed, preset="demo")


def score(
    backend: DemoBackend, combos: tuple[data.Combo, ...], per_combo: int, seed: int,
    weights: Path,
) -> tuple[dict[str, float], list[float]]:
    """Accuracies over `per_combo` clips of each combination, and each clip's seconds."""
    rng = np.random.default_rng(seed)
    hits = {key: 0 for key in (*TARGETS, *EXTRA)}
    times: list[float] = []
    for shape, colour, motion in combos:
        for _ in range(per_combo):
            prompt = caption(rng, shape, colour, motion)
            start = time.perf_counter()
            frames = backend.generate(_request(prompt, int(rng.integers(2**31))),
                                      lambda _s, _t: None, lambda: False)
            times.append(time.perf_counter() - start)
            seen = judge(frames)
            seen_shape = classify(frames, weights)[0]
            ok = {"colour": seen.colour == colour, "motion": seen.motion == motion,
                  "shape": seen_shape == shape}
            ok["all three"] = all(ok.values())
            ok["shape (checker)"] = seen.shape == shape
            for key, good in ok.items():
                hits[key] += int(good)
    total = len(combos) * per_combo
    return {key: count / total for key, count in hits.items()}, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-combo", type=int, default=10)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    backend = DemoBackend(*load_generator(args.weights))
    held, held_times = score(backend, data.HELD_OUT, args.per_combo, args.seed, args.weights)
    train_combos = data.TRAIN_COMBOS[:: max(1, len(data.TRAIN_COMBOS) // len(data.HELD_OUT))]
    seen, seen_times = score(backend, train_combos, args.per_combo, args.seed, args.weights)
    print(f"clips: {len(data.HELD_OUT)} held-out combos and {len(train_combos)} training "
          f"combos x {args.per_combo} prompts/seeds each")
    print(f"{'metric':<16}{'held-out':>10}{'training':>10}{'target':>10}")
    for key, target in TARGETS.items():
        mark = "ok" if held[key] >= target else "MISS"
        print(f"{key:<16}{held[key]:>10.1%}{seen[key]:>10.1%}{target:>9.0%}  {mark}")
    for key in EXTRA:
        print(f"{key:<16}{held[key]:>10.1%}{seen[key]:>10.1%}{'-':>10}")
    median = statistics.median(held_times + seen_times)
    mark = "ok" if median <= 0.3 else "MISS"
    print(f"{'gen s/clip':<16}{statistics.median(held_times):>10.3f}"
          f"{statistics.median(seen_times):>10.3f}{0.3:>10.1f}  {mark}")


if __name__ == "__main__":
    main()
