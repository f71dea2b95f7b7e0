"""Training of the demo generator (and then the captioner) from scratch on one CPU core.

`python -m generator.backends.demo.train --out DIR --minutes N` writes DIR/generator.safetensors,
DIR/captioner.safetensors and DIR/vocab.json. Losses (see MODEL_CARD.md for why):

- reconstruction: object-weighted L1 between the generated clip and the true clip of the
  same caption and layout (the layout part of the noise is the true one during training);
- adversarial: hinge loss from a frame and a video discriminator, both text-conditioned by
  projection, which also learn to reject real clips paired with the wrong caption;
- auxiliary classification: the discriminators classify real clips (shape, colour, motion)
  and the generator is asked to make its clips classified as the caption says;
- text: the condition vector must predict shape, colour and motion.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor

from generator.backends.demo import data
from generator.backends.demo.batches import Batch, make_batch
from generator.backends.demo.checker import judge
from generator.backends.demo.losses import class_loss
from generator.backends.demo.model import (
    FrameDiscriminator,
    Generator,
    ModelConfig,
    VideoDiscriminator,
    judge_features,
    seen_frames,
)
from generator.backends.demo.progress import Progress
from generator.backends.demo.vocab import Vocab

GENERATOR_FILE = "generator.safetensors"
VOCAB_FILE = "vocab.json"


@dataclass(frozen=True)
class TrainSettings:
    """Knobs of one training run; the defaults are the shipped model's."""

    batch: int = 32
    lr: float = 2e-3
    lr_d: float = 2e-4
    adv_weight: float = 0.01
    adv_after: int = 300
    track_weight: float = 5.0
    aux_weight: float = 0.1
    text_weight: float = 0.5
    object_weight: float = 4.0
    eval_every_s: float = 90.0
    patience: int = 8
    val_size: int = 192
    base: int = 64
    captioner_share: float = 0.12
    report_clips: int = 210


def object_weights(real: Tensor, extra: float) -> Tensor:
    """1 on background pixels, 1 + `extra` on object pixels (B, T, 1, H, W)."""
    background = torch.tensor(data.BACKGROUND, dtype=real.dtype).view(1, 1, 3, 1, 1) / 255.0
    is_object = (real - background).abs().sum(2, keepdim=True) > 0.1
    return 1.0 + extra * is_object.float()


class Trainer:
    """One generator, two discriminators and their optimisers."""

    def __init__(self, cfg: ModelConfig, settings: TrainSettings) -> None:
        self.s = settings
        self.gen = Generator(cfg)
        self.dframe, self.dvideo = FrameDiscriminator(cfg), VideoDiscriminator(cfg)
        d_params = [*self.dframe.parameters(), *self.dvideo.parameters()]
        self.opt_g = torch.optim.Adam(self.gen.parameters(), settings.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(d_params, settings.lr_d, betas=(0.5, 0.999))
        self.steps = 0

    def _judge(self, clips: Tensor, cond: Tensor, wrong: bool = False) -> list[Tensor]:
        """Frame and video scores and logits of `clips`; with `wrong`, also the scores of
        the same clips against the batch's captions shifted by one (mismatched text)."""
        t = clips.shape[1]
        ff, fv = self.dframe.features(clips.flatten(0, 1)), self.dvideo.features(clips)
        fcond = cond.repeat_interleave(t, 0)
        out = [*judge_features(self.dframe, ff, fcond), *judge_features(self.dvideo, fv, cond)]
        if wrong:
            out.append(judge_features(self.dframe, ff, cond.roll(1, 0).repeat_interleave(t, 0))[0])
            out.append(judge_features(self.dvideo, fv, cond.roll(1, 0))[0])
        return out

    def set_progress(self, fraction: float) -> None:
        """Cosine-decay the generator's learning rate over the run (fraction 0 -> 1)."""
        scale = 0.5 * (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0)))
        for group in self.opt_g.param_groups:
            group["lr"] = self.s.lr * (0.05 + 0.95 * scale)

    def step(self, batch: Batch, offset: int) -> dict[str, float]:
        """One discriminator and one generator update; returns the losses."""
        idx = seen_frames(offset)
        real = batch.clips[:, idx]
        labels, frame_labels = batch.labels, batch.labels.repeat_interleave(len(idx), 0)
        free = torch.randn(len(real), self.gen.cfg.free_noise)
        cond = self.gen.text(batch.tokens)
        track = self.gen.dynamics(cond, torch.cat([batch.layout, free], 1))
        fake = self.gen.decode(cond, track[:, idx])

        c = cond.detach()
        rf, rfl, rv, rvl, wf, wv = self._judge(real, c, wrong=True)
        ff, _, fv, _ = self._judge(fake.detach(), c)
        d_loss = (
            F.relu(1 - rf).mean() + F.relu(1 - rv).mean()
            + 0.5 * (F.relu(1 + ff).mean() + F.relu(1 + fv).mean())
            + 0.5 * (F.relu(1 + wf).mean() + F.relu(1 + wv).mean())
            + class_loss(rfl, frame_labels) + class_loss(rvl, labels)
        )
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()

        gf, gfl, gv, gvl = self._judge(fake, cond)
        rec = (object_weights(real, self.s.object_weight) * (fake - real).abs()).mean()
        adv = -(gf.mean() + gv.mean())
        aux = class_loss(gfl, frame_labels) + class_loss(gvl, labels)
        text = class_loss(self.gen.text.classify(cond), labels)
        where = (track - batch.tracks).abs().mean()
        adv_weight = self.s.adv_weight if self.steps >= self.s.adv_after else 0.0
        g_loss = rec + adv_weight * adv + self.s.aux_weight * aux
        g_loss = g_loss + self.s.text_weight * text + self.s.track_weight * where
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.steps += 1
        return {"rec": rec.item(), "track": where.item(), "adv": adv.item(),
                "aux": aux.item(), "text": text.item(), "d": d_loss.item()}


@torch.no_grad()
def render_clips(gen: Generator, tokens: Tensor, layout: Tensor) -> Tensor:
    """Full 16-frame clips (B, T, 3, H, W) for given tokens and layouts, free noise zero."""
    gen.eval()
    noise = torch.cat([layout, torch.zeros(len(layout), gen.cfg.free_noise)], 1)
    out = torch.cat([gen(tokens[i:i + 32], noise[i:i + 32]) for i in range(0, len(noise), 32)])
    gen.train()
    return out


def evaluate(gen: Generator, batch: Batch, extra: float) -> dict[str, float]:
    """Object-weighted L1 and checker accuracies of the generator on a fixed batch."""
    clips = render_clips(gen, batch.tokens, batch.layout)
    loss = (object_weights(batch.clips, extra) * (clips - batch.clips).abs()).mean().item()
    frames = (clips.permute(0, 1, 3, 4, 2) * 255).round().byte().numpy()
    hits = np.zeros(3)
    for clip, label in zip(frames, batch.labels.tolist(), strict=True):
        v = judge(clip)
        hits += [v.shape == data.SHAPES[label[0]], v.colour == data.COLOURS[label[1]],
                 v.motion == data.MOTIONS[label[2]]]
    acc = hits / len(frames)
    return {"loss": loss, "shape": acc[0], "colour": acc[1], "motion": acc[2]}


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
    val = make_batch(np.random.default_rng(seed + 1_000_003), vocab, settings.val_size)
    start = time.monotonic()
    best, best_step, stale, step, last_eval = float("inf"), 0, 0, 0, start
    first_rec, recent = float("nan"), 0.0
    bar = Progress(seconds, enabled=progress)
    while time.monotonic() - start < seconds and stale < settings.patience:
        trainer.set_progress((time.monotonic() - start) / seconds)
        losses = trainer.step(make_batch(rng, vocab, settings.batch), step)
        step += 1
        first_rec = losses["rec"] if step == 1 else first_rec
        recent = losses["rec"] if step == 1 else 0.95 * recent + 0.05 * losses["rec"]
        now = time.monotonic()
        bar.update(now - start, f"step {step} rec {recent:.4f} d {losses['d']:.2f} "
                                f"val {best:.4f}")
        if now - last_eval >= settings.eval_every_s or now - start >= seconds:
            last_eval = now
            metrics = evaluate(trainer.gen, val, settings.object_weight)
            bar.note(f"step {step}: " + " ".join(f"val_{k} {v:.3f}" for k, v in metrics.items()))
            if metrics["loss"] < best:
                best, best_step, stale = metrics["loss"], step, 0
                save_generator(trainer.gen, out_dir / GENERATOR_FILE)
                torch.save({"step": step, "d_frame": trainer.dframe.state_dict(),
                            "d_video": trainer.dvideo.state_dict()}, out_dir / "checkpoint.pt")
            else:
                stale += 1
    bar.close()
    if best == float("inf"):
        save_generator(trainer.gen, out_dir / GENERATOR_FILE)
    return {"steps": float(step), "best_step": float(best_step), "first_train_rec": first_rec,
            "last_train_rec": recent, "val_loss": best,
            "generator_minutes": (time.monotonic() - start) / 60}


def final_report(out_dir: Path, seed: int, count: int = 210) -> dict[str, float]:
    """Checker accuracies of the saved generator on validation and held-out combinations."""
    from generator.backends.demo.loading import load_generator

    gen, vocab = load_generator(out_dir)
    report: dict[str, float] = {}
    for name, combos in (("val", data.TRAIN_COMBOS), ("heldout", data.HELD_OUT)):
        batch = make_batch(np.random.default_rng(seed + 7), vocab, count, combos)
        for key, value in evaluate(gen, batch, 0.0).items():
            report[f"{name}_{'l1' if key == 'loss' else key}"] = value
    return report


def train_demo(
    out_path: Path,
    *,
    minutes: float,
    seed: int = 0,
    progress: bool = True,
    settings: TrainSettings | None = None,
) -> dict[str, float]:
    """Train the demo generator and captioner from scratch into the folder `out_path`
    within about `minutes`; returns the final metrics (also printed when `progress`)."""
    from generator.backends.demo.captioner import train_captioner

    torch.set_num_threads(1)
    settings = settings or TrainSettings()
    out_path.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    cap_seconds = seconds * settings.captioner_share
    metrics = train_generator(out_path, seconds=seconds - cap_seconds, seed=seed,
                              progress=progress, settings=settings)
    if cap_seconds > 0:
        metrics |= train_captioner(out_path, seconds=cap_seconds, seed=seed, progress=progress)
    metrics |= final_report(out_path, seed, settings.report_clips)
    (out_path / "checkpoint.pt").unlink(missing_ok=True)
    if progress:
        for key, value in metrics.items():
            print(f"{key:>22}: {value:.4f}")
    return metrics


def main(argv: list[str] | None = None) -> None:
    """Command line: train the demo model into --out within --minutes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=TrainSettings.batch)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    settings = replace(TrainSettings(), batch=args.batch)
    train_demo(args.out, minutes=args.minutes, seed=args.seed, progress=not args.quiet,
               settings=settings)


if __name__ == "__main__":
    main()
