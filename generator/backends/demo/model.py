"""The demo video generator: text (and optionally a picture) in, 16 frames of 64x64 out.

Text: word embeddings -> bidirectional GRU -> attention over the tokens with a few learned
queries -> logits of each shape, colour and motion; the likeliest of each, one-hot, are
the *factors*. Each factor is embedded by a learned table; the shape and colour embeddings
make the *appearance*, the motion embedding drives the dynamics. A picture replaces the
shape and colour factors by what a picture reader saw, so they lose to the picture while
the motion still comes from the prompt.

Dynamics: a GRU cell steps through the 16 frames from the motion embedding and either a
*layout* (4 numbers in [0, 1) drawn from the seed: position along and across the motion,
speed, size) or an *anchor* (where the picture's object stands, its half-size, and a
speed); a linear read-out gives each frame's object centre and half-size (the *track*). An
anchored track is shifted so that its first frame is exactly the anchor. A convolutional
decoder draws the appearance as a 64x64 RGBA sprite, and a spatial transformer places it in
each frame at the track's position and size over a plain background (learned, or the
picture's).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generator.backends.demo.data import COLOURS, FRAMES, LAYOUT_DIMS, MOTIONS, SHAPES, SIZE

N_CLASSES = (len(SHAPES), len(COLOURS), len(MOTIONS))
#: Anchor numbers: centre x, centre y, half-size (track units), speed, and a 1 flag.
ANCHOR_DIMS = 5
#: Fraction of the sprite's half-width that the object's half-size fills.
SPRITE_FILL = 0.8


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the generator; stored beside the weights."""

    vocab_size: int
    embed: int = 64
    text_hidden: int = 64
    queries: int = 3
    factor: int = 32
    dynamics: int = 128
    base: int = 64
    sprite: int = 64

    def to_metadata(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelConfig:
        return cls(**{k: int(v) for k, v in meta.items() if k in cls.__dataclass_fields__})


class TextEncoder(nn.Module):
    """Token ids (B, L) with padding 0 -> factor logits (B, 3 + 7 + 7)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=0)
        self.rnn = nn.GRU(cfg.embed, cfg.text_hidden, batch_first=True, bidirectional=True)
        width = 2 * cfg.text_hidden
        self.keys = nn.Linear(width, width)
        self.queries = nn.Parameter(torch.randn(cfg.queries, width) / width**0.5)
        self.hidden = nn.Linear(cfg.queries * width, width)
        self.classify = nn.Linear(width, sum(N_CLASSES))

    def forward(self, tokens: Tensor) -> Tensor:
        states, _ = self.rnn(self.embed(tokens))
        scores = torch.einsum("blw,qw->bql", torch.tanh(self.keys(states)), self.queries)
        scores = scores.masked_fill((tokens == 0)[:, None, :], float("-inf"))
        context = torch.einsum("bql,blw->bqw", scores.softmax(-1), states)
        return self.classify(torch.tanh(self.hidden(context.flatten(1))))


def decide(logits: Tensor) -> Tensor:
    """Logits (B, 17) -> the factors: the likeliest shape, colour and motion, one-hot (so a
    clip shows one crisp sprite, never a blend). Gradients flow through the softmax
    (straight-through), so the generator's losses still teach the text encoder."""
    parts = []
    for part in logits.split(list(N_CLASSES), 1):
        probs = part.softmax(1)
        hard = F.one_hot(probs.argmax(1), part.shape[1]).to(probs.dtype)
        parts.append(hard + probs - probs.detach())
    return torch.cat(parts, 1)


def one_hot_factors(labels: Tensor) -> Tensor:
    """Class indices (B, 3) of (shape, colour, motion) -> certain factors (B, 17)."""
    return torch.cat([F.one_hot(labels[:, i], n).float() for i, n in enumerate(N_CLASSES)], 1)


def coords(x: Tensor) -> Tensor:
    """Append two channels holding each pixel's x and y in [-1, 1] (CoordConv)."""
    n, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
    xs = torch.linspace(-1, 1, w, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
    return torch.cat([x, xs, ys], 1)


class SpriteDecoder(nn.Module):
    """Appearance (B, 2 * factor) -> the object as an RGBA sprite (B, 4, S, S), S =
    `cfg.sprite`, drawn centred and upright, its half-size filling 80 % of the sprite's
    half-width."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        b = cfg.base
        self.base = b
        self.fc = nn.Linear(2 * cfg.factor, b * 16)
        # Channels halve (down to 8) as the side doubles from 4 pixels to the sprite's.
        widths = [max(b >> i, 8) for i in range(int(math.log2(cfg.sprite // 4)) + 1)]
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(cin + 2, cout, 4, 2, 1) for cin, cout in itertools.pairwise(widths)
        )
        self.to_rgba = nn.Conv2d(widths[-1] + 2, 4, 3, padding=1)
        # Start transparent (alpha about 0.05): an empty frame, not a grey veil.
        self.to_rgba.bias = nn.Parameter(torch.tensor([0.0, 0.0, 0.0, -3.0]))

    def forward(self, appearance: Tensor) -> Tensor:
        x = F.leaky_relu(self.fc(appearance), 0.2).view(-1, self.base, 4, 4)
        for conv in self.ups:
            x = F.leaky_relu(conv(coords(x)), 0.2)
        return torch.sigmoid(self.to_rgba(coords(x)))


def place(sprite: Tensor, track: Tensor, background: Tensor,
          size: tuple[int, int] = (SIZE, SIZE)) -> Tensor:
    """Frames (B, T, 3, height, width): each sprite (B, 4, S, S) at its per-frame track
    (B, T, 3) (centre x and y as fractions of the frame, half-size as a fraction of half the
    frame), bilinearly sampled by a spatial transformer over the plain `background` (B, 3).
    Frames of any `size` are drawn directly, as sharp as the sprite allows."""
    b, t, _ = track.shape
    flat = track.reshape(b * t, 3)
    cx, cy = flat[:, 0] * 2 - 1, flat[:, 1] * 2 - 1
    extent = (flat[:, 2] / SPRITE_FILL).clamp_min(1e-3)  # sprite half-width, frame units
    zero = torch.zeros_like(cx)
    theta = torch.stack([
        torch.stack([1 / extent, zero, -cx / extent], 1),
        torch.stack([zero, 1 / extent, -cy / extent], 1),
    ], 1)
    grid = F.affine_grid(theta, [b * t, 4, *size], align_corners=False)
    placed = F.grid_sample(sprite.repeat_interleave(t, 0), grid, align_corners=False)
    rgb, alpha = placed[:, :3], placed[:, 3:]
    back = background.repeat_interleave(t, 0)[:, :, None, None]
    return (alpha * rgb + (1 - alpha) * back).view(b, t, 3, *size)


class Generator(nn.Module):
    """(factors, layout or anchor) -> clip (B, FRAMES, 3, 64, 64) in [0, 1]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.text = TextEncoder(cfg)
        self.shape_table = nn.Linear(N_CLASSES[0], cfg.factor, bias=False)
        self.colour_table = nn.Linear(N_CLASSES[1], cfg.factor, bias=False)
        self.motion_table = nn.Linear(N_CLASSES[2], cfg.factor, bias=False)
        inputs = cfg.factor + LAYOUT_DIMS + ANCHOR_DIMS
        self.start = nn.Linear(inputs, cfg.dynamics)
        self.cell = nn.GRUCell(inputs + 1, cfg.dynamics)
        #: Reads each frame's object centre and half-size off the dynamics state.
        self.where = nn.Linear(cfg.dynamics, 3)
        self.sprite = SpriteDecoder(cfg)
        self.background = nn.Parameter(torch.full((3,), -2.0))

    def appearance(self, factors: Tensor) -> Tensor:
        """The embedded shape and colour factors (B, 2 * factor)."""
        shape, colour, _ = factors.split(list(N_CLASSES), 1)
        return torch.cat([self.shape_table(shape), self.colour_table(colour)], 1)

    def dynamics(self, factors: Tensor, layout: Tensor, anchor: Tensor) -> Tensor:
        """The object track (B, FRAMES, 3) from a GRU cell's latent trajectory. Rows whose
        anchor flag is 1 start exactly at the anchor; the others follow their layout."""
        motion = self.motion_table(factors[:, N_CLASSES[0] + N_CLASSES[1]:])
        inputs = torch.cat([motion, layout, anchor], 1)
        h = torch.tanh(self.start(inputs))
        steps = []
        for t in range(FRAMES):
            clock = torch.full_like(inputs[:, :1], t / (FRAMES - 1))
            h = self.cell(torch.cat([inputs, clock], 1), h)
            steps.append(h)
        track = self.where(torch.stack(steps, 1)) + 0.5
        anchored = anchor[:, 4:5, None]
        return track + anchored * (anchor[:, None, :3] - track[:, :1])

    def sprite_bank(self) -> Tensor:
        """The sprite of every shape and colour (21, 4, S, S), shape-major: the appearance
        depends on nothing else, so one bank serves a whole batch (or every request)."""
        objects = [(s, c, 0) for s in range(N_CLASSES[0]) for c in range(N_CLASSES[1])]
        factors = one_hot_factors(torch.tensor(objects, device=self.background.device))
        return self.sprite(self.appearance(factors))

    def decode(self, factors: Tensor, track: Tensor, background: Tensor | None = None,
               size: tuple[int, int] = (SIZE, SIZE), bank: Tensor | None = None) -> Tensor:
        """Frames (B, T, 3, *size) for `track` (B, T, 3), with the sprite of each row's shape
        and colour from `bank` (default: drawn now); `background` (B, 3) in [0, 1], or the
        learned one."""
        if background is None:
            background = torch.sigmoid(self.background).expand(len(track), 3)
        bank = self.sprite_bank() if bank is None else bank
        shape, colour, _ = factors.split(list(N_CLASSES), 1)
        return place(bank[shape.argmax(1) * N_CLASSES[1] + colour.argmax(1)], track,
                     background, size)

    def forward(self, tokens: Tensor, layout: Tensor) -> Tensor:
        """Text-only clips (B, FRAMES, 3, 64, 64) for tokens (B, L) and layouts (B, 4)."""
        factors = decide(self.text(tokens))
        anchor = layout.new_zeros(len(layout), ANCHOR_DIMS)
        return self.decode(factors, self.dynamics(factors, layout, anchor))


def seen_frames(offset: int, count: int) -> list[int]:
    """`count` frame indices spread over the clip from `offset`, which training decodes."""
    stride = FRAMES // count
    return [offset % stride + stride * i for i in range(count)]
