"""Training of the demo generator (then the captioner and the picture reader) from scratch
on one CPU core.

`python -m generator.backends.demo.train --out DIR --minutes N` writes DIR/generator.safetensors,
DIR/captioner.safetensors, DIR/reader.safetensors and DIR/vocab.json. Each step sees text-only
clips and clips that start from a picture. Losses (see MODEL_CARD.md for why):

- reconstruction: object-weighted L1 between the generated clip and the true clip of the
  same caption and layout (or picture, motion and speed);
- track: L1 between the predicted and the true object centre and size in every frame;
- sprite: L1 between the sprite drawn for each shape and colour and the true object, drawn
  in the sprite's frame (what makes square corners square and triangle vertices sharp);
- text: the text encoder must name the shape, colour and motion the caption names.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import Tensor

from generator.backends.demo import data
from generator.backends.demo.batches import MixedBatch, mixed_batch, render_batch
from generator.backends.demo.captioner import train_captioner
from generator.backends.demo.evaluation import evaluate, final_report
from generator.backends.demo.losses import class_loss, cosine_decay, object_weights
from generator.backends.demo.model import SPRITE_FILL, Generator, ModelConfig, decide, seen_frames
from generator.backends.demo.progress import Progress
from generator.backends.demo.reader import train_reader
from generator.backends.demo.vocab import Vocab

GENERATOR_FILE = "generator.safetensors"
VOCAB_FILE = "vocab.json"


@dataclass(frozen=True)
class TrainSettings:
    """Knobs of one training run; the defaults are the shipped model's."""

    batch: int = 32
    picture_share: float = 0.5
    frames_seen: int = 4
    lr: float = 2e-3
    track_weight: float = 5.0
    sprite_weight: float = 1.0
    text_weight: float = 0.5
    object_weight: float = 4.0
    eval_every_s: float = 90.0
    patience: int = 8
    val_size: int = 192
    base: int = 64
    captioner_share: float = 0.2
    reader_share: float = 0.07
    report_clips: int = 210


def true_sprites(side: int) -> Tensor:
    """The true sprite of every shape and colour (21, 4, side, side), shape-major as in
    `Generator.sprite_bank`: premultiplied RGB and alpha of the object centred in the
    sprite's frame."""
    sprites = []
    centre, half = np.array([side / 2]), np.array([SPRITE_FILL * side / 2])
    for shape in data.SHAPES:
        alpha = data.shape_masks(shape, centre, centre, half, size=side)[0].astype(np.float32)
        for colour in data.COLOURS:
            rgb = np.array(data.PALETTE[colour], np.float32)[:, None, None] / 255.0
            sprites.append(np.concatenate([rgb * alpha, alpha[None]]))
    return torch.from_numpy(np.stack(sprites))


class Trainer:
    """One generator and its optimiser."""

    def __init__(self, cfg: ModelConfig, settings: TrainSettings) -> None:
        self.s = settings
        self.gen = Generator(cfg)
        self.opt = torch.optim.Adam(self.gen.parameters(), settings.lr)
        self.sprite_targets = true_sprites(cfg.sprite)

    def set_progress(self, fraction: float) -> None:
        """Cosine-decay the learning rate over the run (fraction 0 -> 1)."""
        cosine_decay(self.opt, self.s.lr, fraction)

    def sprite_loss(self, bank: Tensor) -> Tensor:
        """L1 of the drawn sprites (premultiplied) against the true ones."""
        drawn = torch.cat([bank[:, :3] * bank[:, 3:], bank[:, 3:]], 1)
        return (drawn - self.sprite_targets).abs().mean()

    def step(self, mixed: MixedBatch, offset: int) -> dict[str, float]:
        """One update on a mixed batch; returns the losses."""
        b = mixed.batch
        idx = seen_frames(offset, self.s.frames_seen)
        logits = self.gen.text(b.tokens)
        bank = self.gen.sprite_bank()
        track, clips = render_batch(self.gen, mixed, decide(logits), idx, bank)
        real = b.clips[:, idx]
        weights = object_weights(real, mixed.background, self.s.object_weight)
        rec = (weights * (clips - real).abs()).mean()
        where = (track - b.tracks).abs().mean()
        sprite = self.sprite_loss(bank)
        text = class_loss(logits, mixed.named)
        loss = (rec + self.s.track_weight * where + self.s.sprite_weight * sprite
                + self.s.text_weight * text)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"rec": rec.item(), "track": where.item(), "sprite": sprite.item(),
                "text": text.item()}


def save_generator(gen: Generator, path: Path) -> None:
    """Write the generator's weights, with its config as metadata."""
    tensors = {k: v.detach().contiguous() for k, v in gen.state_dict().items()}
    save_file(tensors, str(path), metadata=gen.cfg.to_metadata())


def train_generator(
    out_dir: Path, *, seconds: float, seed: int, progress: bool, settings: TrainSettings
) -> dict[str, float]:
    """Train and save the generator within `seconds`; returns the final metrics."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vocab = Vocab.build()
    vocab.save(out_dir / VOCAB_FILE)
    trainer = Trainer(ModelConfig(vocab_size=len(vocab), base=settings.base), settings)
    share = settings.picture_share
    val = mixed_batch(np.random.default_rng(seed + 1_000_003), vocab, settings.val_size, share)
    start = time.monotonic()
    best, best_step, stale, step, last_eval = float("inf"), 0, 0, 0, start
    first: dict[str, float] = {}
    recent = 0.0
    bar = Progress(seconds, enabled=progress)
    while time.monotonic() - start < seconds and stale < settings.patience:
        trainer.set_progress((time.monotonic() - start) / seconds)
        losses = trainer.step(mixed_batch(rng, vocab, settings.batch, share), step)
        step += 1
        first = first or losses
        recent = losses["rec"] if step == 1 else 0.95 * recent + 0.05 * losses["rec"]
        now = time.monotonic()
        bar.update(now - start, f"step {step} rec {recent:.4f} sprite {losses['sprite']:.3f} "
                                f"val {best:.4f}")
        if now - last_eval >= settings.eval_every_s or now - start >= seconds:
            last_eval = now
            metrics = evaluate(trainer.gen, val, settings.object_weight)
            bar.note(f"step {step}: " + " ".join(f"val_{k} {v:.3f}" for k, v in metrics.items()))
            if metrics["loss"] < best:
                best, best_step, stale = metrics["loss"], step, 0
                save_generator(trainer.gen, out_dir / GENERATOR_FILE)
            else:
                stale += 1
    bar.close()
    if best == float("inf"):
        save_generator(trainer.gen, out_dir / GENERATOR_FILE)
    return {"steps": float(step), "best_step": float(best_step),
            "first_train_rec": first["rec"], "last_train_rec": recent,
            "first_sprite": first["sprite"], "last_sprite": losses["sprite"], "val_loss": best,
            "generator_minutes": (time.monotonic() - start) / 60}


def train_demo(
    out_path: Path,
    *,
    minutes: float,
    seed: int = 0,
    progress: bool = True,
    settings: TrainSettings | None = None,
) -> dict[str, float]:
    """Train the demo generator, captioner and picture reader from scratch into the folder
    `out_path` within about `minutes`; returns the final metrics (printed when `progress`)."""
    torch.set_num_threads(1)
    settings = settings or TrainSettings()
    out_path.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    cap_seconds, reader_seconds = (seconds * settings.captioner_share,
                                   seconds * settings.reader_share)
    metrics = train_generator(out_path, seconds=seconds - cap_seconds - reader_seconds,
                              seed=seed, progress=progress, settings=settings)
    metrics |= train_captioner(out_path, seconds=cap_seconds, seed=seed, progress=progress)
    metrics |= train_reader(out_path, seconds=reader_seconds, seed=seed, progress=progress)
    metrics |= final_report(out_path, seed, settings.report_clips)
    if progress:
        for key, value in metrics.items():
            print(f"{key:>22}: {value:.4f}")
    return metrics


def main(argv: list[str] | None = None) -> None:
    """Command line: train the demo model into --out within --minutes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=55.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=TrainSettings.batch)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    settings = replace(TrainSettings(), batch=args.batch)
    train_demo(args.out, minutes=args.minutes, seed=args.seed, progress=not args.quiet,
               settings=settings)


if __name__ == "__main__":
    main()
