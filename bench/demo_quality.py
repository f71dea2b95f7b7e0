"""Quality and speed of the embedded demo model, from text and from a picture, on held-out
and training combinations.

From text: each clip is generated from a fresh caption of a (shape, colour, motion)
combination with its own seed, then judged by `checker` (colour, motion: measured from the
pixels), by the captioner (shape), and by geometry (`geometry.py`: is the shape crisp —
square corners, sharp triangle vertices, round circles — and the one asked for).

From a picture: an unseen picture of the combination's object (random place, size and plain
background) is animated with a prompt naming the motion (alone, or with another shape and
colour, which must lose to the picture). Judged from the pixels: how close the first frame
is to the picture (overlap of the object masks, mean pixel difference), whether the colour
and the (geometric) shape are the picture's, and the motion the prompt's. The same checks on
the true clips of those pictures show what the checker itself gets right (a ceiling: an
object leaving the frame can fool it). Last, pictures the model must refuse.

    .venv/bin/python bench/demo_quality.py [--per-combo N] [--weights DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from generator.backends.base import GenerationFailed
from generator.backends.demo import anchored, data, samples
from generator.backends.demo.backend import DemoBackend, seed_layout, seed_speed
from generator.backends.demo.captioner import classify
from generator.backends.demo.captions import caption
from generator.backends.demo.checker import judge, object_masks
from generator.backends.demo.loading import WEIGHTS_DIR
from videobot.config import PresetConfig
from videobot.params import RenderRequest

TEXT_TARGETS = {"colour": 0.95, "motion": 0.90, "shape": 0.80, "all three": 0.75}
#: Reported beside the targets: the shape read by geometry (crisp and right).
TEXT_EXTRA = ("shape (geometry)",)
PICTURE_TARGETS = {"colour kept": 0.95, "motion": 0.90, "shape kept": 0.80,
                   "all three": 0.75, "first frame IoU": 0.80}
NO_CALLBACK = (lambda _s, _t: None, lambda: False)


def _request(prompt: str, seed: int) -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=16, fps=8, width=64,
                         height=64, steps=4, guidance=1.0, seed=seed, preset="demo")


def text_scores(
    backend: DemoBackend, combos: tuple[data.Combo, ...], per_combo: int, seed: int,
    weights: Path,
) -> tuple[dict[str, float], list[float]]:
    """Accuracies over `per_combo` text-only clips of each combination, and their seconds."""
    rng = np.random.default_rng(seed)
    hits = {key: 0.0 for key in (*TEXT_TARGETS, *TEXT_EXTRA)}
    times: list[float] = []
    for shape, colour, motion in combos:
        for _ in range(per_combo):
            prompt = caption(rng, shape, colour, motion)
            start = time.perf_counter()
            frames = backend.generate(_request(prompt, int(rng.integers(2**31))), *NO_CALLBACK)
            times.append(time.perf_counter() - start)
            seen = judge(frames)
            ok = {"colour": seen.colour == colour, "motion": seen.motion == motion,
                  "shape": classify(frames, weights)[0] == shape}
            ok["all three"] = all(ok.values())
            ok["shape (geometry)"] = seen.shape == shape
            for key, good in ok.items():
                hits[key] += good
    return {key: count / (len(combos) * per_combo) for key, count in hits.items()}, times


def first_frame_closeness(frames: np.ndarray, picture: np.ndarray) -> tuple[float, float]:
    """Overlap (IoU) of the object masks of the first frame and the picture, and their mean
    absolute pixel difference (0-255)."""
    masks, _ = object_masks(np.stack([frames[0], picture]))
    iou = (masks[0] & masks[1]).sum() / max((masks[0] | masks[1]).sum(), 1)
    return float(iou), float(np.abs(frames[0].astype(int) - picture.astype(int)).mean())


def picture_checks(frames: np.ndarray, spec: anchored.AnchoredSpec) -> dict[str, float]:
    """The picture figures of one clip animated from `spec`'s picture."""
    seen = judge(frames)
    ok = {"colour kept": seen.colour == spec.colour, "motion": seen.motion == spec.motion,
          "shape kept": seen.shape == spec.shape}
    ok["all three"] = all(ok.values())
    return {key: float(good) for key, good in ok.items()}


def picture_scores(
    backend: DemoBackend, combos: tuple[data.Combo, ...], per_combo: int, seed: int
) -> tuple[dict[str, float], dict[str, float], list[float]]:
    """Mean picture figures of the model and of the true clips, and each clip's seconds."""
    rng = np.random.default_rng(seed + 1)
    model: dict[str, float] = {}
    truth: dict[str, float] = {}
    times: list[float] = []
    for combo in combos:
        for _ in range(per_combo):
            clip_seed = int(rng.integers(2**31))
            spec = samples.picture_spec(rng, combo, seed_speed(seed_layout(clip_seed)))
            picture = samples.picture_of(spec)
            start = time.perf_counter()
            frames = backend.generate(_request(samples.prompt_for(rng, spec), clip_seed),
                                      *NO_CALLBACK, image=picture)
            times.append(time.perf_counter() - start)
            iou, diff = first_frame_closeness(frames, picture)
            for table, checks in ((model, picture_checks(frames, spec) | {
                    "first frame IoU": iou, "first frame |diff|": diff}),
                    (truth, picture_checks(anchored.render_anchored(spec), spec))):
                for key, value in checks.items():
                    table[key] = table.get(key, 0.0) + value
    total = len(combos) * per_combo
    return ({k: v / total for k, v in model.items()}, {k: v / total for k, v in truth.items()},
            times)


def refusals(backend: DemoBackend, count: int, seed: int) -> dict[str, float]:
    """The share of each kind of unreadable picture that the model refuses."""
    rng = np.random.default_rng(seed + 2)
    shares = {}
    for kind, make in samples.UNREADABLE.items():
        refused = 0
        for _ in range(count):
            try:
                backend.generate(_request("moving left", 0), *NO_CALLBACK, image=make(rng))
            except GenerationFailed:
                refused += 1
        shares[kind] = refused / count
    return shares


def _row(name: str, held: float, seen: float, target: float | None, percent: bool = True) -> str:
    shown = (f"{held:>10.1%}{seen:>10.1%}" if percent else f"{held:>10.3f}{seen:>10.3f}")
    if target is None:
        return f"{name:<22}{shown}{'-':>10}"
    mark = "ok" if held >= target else "MISS"
    return f"{name:<22}{shown}{target:>9.0%}  {mark}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-combo", type=int, default=10)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    torch.set_num_threads(1)
    backend = DemoBackend.load(PresetConfig(name="demo", backend="demo",
                                            model=str(args.weights.resolve())),
                               device="cpu", models_dir=Path.cwd())
    step = max(1, len(data.TRAIN_COMBOS) // len(data.HELD_OUT))
    groups = {"held-out": data.HELD_OUT, "training": data.TRAIN_COMBOS[::step]}
    # Each group draws its own prompts, seeds and pictures (the two groups pair the same
    # shapes and colours in the same order).
    text = {g: text_scores(backend, c, args.per_combo, args.seed + 10 * i, args.weights)
            for i, (g, c) in enumerate(groups.items())}
    pictures = {g: picture_scores(backend, c, args.per_combo, args.seed + 10 * i)
                for i, (g, c) in enumerate(groups.items())}
    print(f"clips: {len(data.HELD_OUT)} held-out combos and {len(groups['training'])} training "
          f"combos x {args.per_combo} prompts/seeds (and pictures) each")
    print(f"\nfrom text{'held-out':>19}{'training':>10}{'target':>10}")
    held, seen = text["held-out"][0], text["training"][0]
    for key, target in TEXT_TARGETS.items():
        print(_row(key, held[key], seen[key], target))
    for key in TEXT_EXTRA:
        print(_row(key, held[key], seen[key], None))
    print(f"\nfrom a picture{'held-out':>14}{'training':>10}{'target':>10}"
          f"{'true clips':>12}")
    held, seen = pictures["held-out"][0], pictures["training"][0]
    truth = pictures["held-out"][1]
    for key, target in PICTURE_TARGETS.items():
        ceiling = f"{truth[key]:>12.1%}" if key in truth else ""
        print(_row(key, held[key], seen[key], target, key != "first frame IoU") + ceiling)
    print(_row("first frame |diff|", held["first frame |diff|"],
               seen["first frame |diff|"], None, percent=False))
    print("\nrefused (of 20 each): " + ", ".join(
        f"{kind} {share:.0%}" for kind, share in refusals(backend, 20, args.seed).items()))
    all_times = [t for _, times in text.values() for t in times]
    picture_times = [t for *_, times in pictures.values() for t in times]
    print(f"\ngeneration, median s/clip at 64x64: from text "
          f"{statistics.median(all_times):.4f}, from a picture "
          f"{statistics.median(picture_times):.4f} (target <= 0.3)")


if __name__ == "__main__":
    main()
