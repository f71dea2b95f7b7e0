"""Tensors for training: captioned clips drawn from the procedural generators.

A training batch mixes text-only clips (`data`: the layout is the noise) and clips that
start from a picture (`anchored`: the prompt gives the motion, the picture the object).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from generator.backends.demo import anchored, data
from generator.backends.demo.captions import caption, motion_caption
from generator.backends.demo.model import ANCHOR_DIMS, N_CLASSES, Generator, one_hot_factors
from generator.backends.demo.vocab import Vocab

#: Label of a factor the caption does not name (ignored by the text loss).
UNNAMED = -1


@dataclass(frozen=True)
class Batch:
    """B captioned clips: tokens (B, L), layout (B, 4), labels (B, 3) of the clip's object
    and motion, clips (B, T, 3, H, W) and object tracks (B, T, 3) (see `data.track`)."""

    tokens: Tensor
    layout: Tensor
    labels: Tensor
    clips: Tensor
    captions: tuple[str, ...]
    tracks: Tensor


@dataclass(frozen=True)
class MixedBatch:
    """Text-only rows followed by picture rows. `anchor` (B, 5) is zero on text-only rows;
    `from_picture` (B,) marks picture rows; `background` (B, 3) is each row's plain
    background in [0, 1]; `named` (B, 3) are the labels the caption names (UNNAMED where
    it names none)."""

    batch: Batch
    anchor: Tensor
    from_picture: Tensor
    background: Tensor
    named: Tensor


def pad_tokens(vocab: Vocab, texts: list[str] | tuple[str, ...]) -> Tensor:
    """Token ids of `texts`, right-padded with 0 to the longest."""
    ids = [vocab.encode(t) for t in texts]
    out = torch.zeros(len(ids), max(len(i) for i in ids), dtype=torch.long)
    for row, seq in enumerate(ids):
        out[row, : len(seq)] = torch.tensor(seq)
    return out


def clips_to_tensor(clips: np.ndarray) -> Tensor:
    """uint8 (B, T, H, W, 3) -> float (B, T, 3, H, W) in [0, 1]."""
    return torch.from_numpy(clips).permute(0, 1, 4, 2, 3).float() / 255.0


def make_batch(
    rng: np.random.Generator,
    vocab: Vocab,
    count: int,
    combos: tuple[data.Combo, ...] = data.TRAIN_COMBOS,
) -> Batch:
    """`count` random text-only clips of `combos`, each with a random caption."""
    specs = data.sample_specs(rng, count, combos)
    texts = tuple(caption(rng, s.shape, s.colour, s.motion) for s in specs)
    return Batch(
        tokens=pad_tokens(vocab, texts),
        layout=torch.tensor([s.layout for s in specs], dtype=torch.float32),
        labels=torch.tensor([s.labels for s in specs], dtype=torch.long),
        clips=clips_to_tensor(np.stack([data.render(s) for s in specs])),
        captions=texts,
        tracks=torch.tensor(np.stack([data.track(s) for s in specs]), dtype=torch.float32),
    )


def picture_prompt(
    rng: np.random.Generator, spec: anchored.AnchoredSpec
) -> tuple[str, tuple[int, int, int]]:
    """A prompt for animating `spec`'s picture, and the (shape, colour, motion) labels it
    names: the motion alone half the time, else a full caption whose shape and colour are
    random (so they often disagree with the picture, and must lose to it)."""
    motion = data.MOTIONS.index(spec.motion)
    if rng.random() < 0.5:
        return motion_caption(rng, spec.motion), (UNNAMED, UNNAMED, motion)
    shape, colour = int(rng.integers(len(data.SHAPES))), int(rng.integers(len(data.COLOURS)))
    text = caption(rng, data.SHAPES[shape], data.COLOURS[colour], spec.motion)
    return text, (shape, colour, motion)


def anchor_of(start: tuple[float, float, float], speed: float) -> list[float]:
    """The generator's anchor numbers for an object at `start` (pixels) and a speed."""
    x, y, half = start
    return [x / data.SIZE, y / data.SIZE, half / (data.SIZE / 2), speed, 1.0]


def make_mixed_batch(
    rng: np.random.Generator, vocab: Vocab, text_rows: int, picture_rows: int,
    combos: tuple[data.Combo, ...] = data.TRAIN_COMBOS,
) -> MixedBatch:
    """`text_rows` text-only clips then `picture_rows` clips that start from a picture."""
    text = make_batch(rng, vocab, text_rows, combos)
    specs = anchored.sample_anchored(rng, picture_rows, combos)
    prompts = [picture_prompt(rng, s) for s in specs]
    clips = np.stack([anchored.render_anchored(s) for s in specs])
    tracks = np.stack([anchored.anchored_track(s) for s in specs])
    dark = [list(data.BACKGROUND)] * text_rows
    batch = Batch(
        tokens=pad_tokens(vocab, [*text.captions, *(p for p, _ in prompts)]),
        layout=torch.cat([text.layout, torch.zeros(picture_rows, data.LAYOUT_DIMS)]),
        labels=torch.cat([text.labels, torch.tensor([s.labels for s in specs])]),
        clips=torch.cat([text.clips, clips_to_tensor(clips)]),
        captions=(*text.captions, *(p for p, _ in prompts)),
        tracks=torch.cat([text.tracks, torch.tensor(tracks, dtype=torch.float32)]),
    )
    return MixedBatch(
        batch=batch,
        anchor=torch.tensor([[0.0] * ANCHOR_DIMS] * text_rows
                            + [anchor_of(s.start, s.speed) for s in specs]),
        from_picture=torch.tensor([False] * text_rows + [True] * picture_rows),
        background=torch.tensor(dark + [list(s.background) for s in specs]) / 255.0,
        named=torch.cat([text.labels, torch.tensor([n for _, n in prompts])]),
    )


def mixed_batch(rng: np.random.Generator, vocab: Vocab, count: int, share: float,
                combos: tuple[data.Combo, ...] = data.TRAIN_COMBOS) -> MixedBatch:
    """A mixed batch of `count` rows, `share` of them starting from a picture."""
    pictures = min(max(round(count * share), 1), count - 1)
    return make_mixed_batch(rng, vocab, count - pictures, pictures, combos)


def slice_batch(mixed: MixedBatch, rows: slice) -> MixedBatch:
    """The rows `rows` of a mixed batch."""
    b = mixed.batch
    return MixedBatch(
        batch=replace(b, tokens=b.tokens[rows], layout=b.layout[rows], labels=b.labels[rows],
                      clips=b.clips[rows], captions=b.captions[rows], tracks=b.tracks[rows]),
        anchor=mixed.anchor[rows], from_picture=mixed.from_picture[rows],
        background=mixed.background[rows], named=mixed.named[rows])


def render_batch(
    gen: Generator, mixed: MixedBatch, text_factors: Tensor, frames: list[int],
    bank: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The full tracks (B, 16, 3) and the given frames of each clip of a mixed batch: text
    rows from their layout and text, picture rows from their anchor with the picture's
    true shape and colour and the text's motion."""
    picture = mixed.from_picture[:, None]
    truth = one_hot_factors(mixed.batch.labels)
    objects = N_CLASSES[0] + N_CLASSES[1]
    from_picture = torch.cat([truth[:, :objects], text_factors[:, objects:]], 1)
    factors = torch.where(picture, from_picture, text_factors)
    track = gen.dynamics(factors, mixed.batch.layout, mixed.anchor)
    learned = torch.sigmoid(gen.background).expand_as(mixed.background)
    background = torch.where(picture, mixed.background, learned)
    return track, gen.decode(factors, track[:, frames], background, bank=bank)
