"""The demo text-to-video conditional GAN.

Text: word embeddings -> bidirectional GRU -> attention over the tokens with a few learned
queries (one tends to pick the shape word, one the colour, one the motion) -> a condition
vector. Generation: the condition plus a noise vector (a *layout* part that places the
object and a free part) start a GRU cell that steps through the 16 frames (the latent
dynamics), whose state gives each frame's object position and size; a convolutional
decoder draws the object's appearance as a sprite and a spatial transformer places it in
each 64x64 frame. Two discriminators judge single frames and whole clips against the text; both also
classify what they see (auxiliary heads), which gives the generator a dense semantic signal.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generator.backends.demo.data import COLOURS, FRAMES, LAYOUT_DIMS, MOTIONS, SHAPES, SIZE

N_CLASSES = (len(SHAPES), len(COLOURS), len(MOTIONS))
#: Frames per clip that training decodes and the video discriminator sees.
SEEN_FRAMES = 4
#: Fraction of the sprite's half-width that the object's half-size fills.
SPRITE_FILL = 0.8


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the generator and discriminators; stored beside the weights."""

    vocab_size: int
    embed: int = 64
    text_hidden: int = 64
    queries: int = 3
    cond: int = 128
    free_noise: int = 8
    dynamics: int = 128
    base: int = 64

    def to_metadata(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelConfig:
        return cls(**{k: int(v) for k, v in meta.items() if k in cls.__dataclass_fields__})


class TextEncoder(nn.Module):
    """Token ids (B, L) with padding 0 -> condition vector (B, cond)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed, padding_idx=0)
        self.rnn = nn.GRU(cfg.embed, cfg.text_hidden, batch_first=True, bidirectional=True)
        width = 2 * cfg.text_hidden
        self.keys = nn.Linear(width, width)
        self.queries = nn.Parameter(torch.randn(cfg.queries, width) / width**0.5)
        self.out = nn.Linear(cfg.queries * width, cfg.cond)
        #: Auxiliary head: the condition must tell shape, colour and motion apart.
        self.classify = nn.Linear(cfg.cond, sum(N_CLASSES))

    def forward(self, tokens: Tensor) -> Tensor:
        states, _ = self.rnn(self.embed(tokens))
        scores = torch.einsum("blw,qw->bql", torch.tanh(self.keys(states)), self.queries)
        scores = scores.masked_fill((tokens == 0)[:, None, :], float("-inf"))
        context = torch.einsum("bql,blw->bqw", scores.softmax(-1), states)
        return torch.tanh(self.out(context.flatten(1)))


def _coords(x: Tensor) -> Tensor:
    """Append two channels holding each pixel's x and y in [-1, 1] (CoordConv)."""
    n, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
    xs = torch.linspace(-1, 1, w, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
    return torch.cat([x, xs, ys], 1)


class SpriteDecoder(nn.Module):
    """Condition (B, cond) -> the object's appearance: a 32x32 RGBA sprite (B, 4, 32, 32),
    drawn centred and upright, filling about 80 % of the sprite."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        b = cfg.base
        self.base = b
        self.fc = nn.Linear(cfg.cond, b * 16)
        widths = [b, b // 2, b // 4, b // 8]  # at 4, 8, 16, 32 pixels
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(cin + 2, cout, 4, 2, 1) for cin, cout in itertools.pairwise(widths)
        )
        self.to_rgba = nn.Conv2d(widths[-1] + 2, 4, 3, padding=1)

    def forward(self, cond: Tensor) -> Tensor:
        x = F.leaky_relu(self.fc(cond), 0.2).view(-1, self.base, 4, 4)
        for conv in self.ups:
            x = F.leaky_relu(conv(_coords(x)), 0.2)
        return torch.sigmoid(self.to_rgba(_coords(x)))


class FrameDecoder(nn.Module):
    """Paints 64x64 frames: places the sprite at each frame's (x, y, size) with a spatial
    transformer (bilinear sampling) over a learned plain background."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.sprite = SpriteDecoder(cfg)
        self.background = nn.Parameter(torch.full((3,), -2.0))

    def forward(self, cond: Tensor, track: Tensor) -> Tensor:
        """Frames (B, T, 3, 64, 64) in [0, 1] for per-frame tracks (B, T, 3): centre x and y
        as fractions of the frame, half-size as a fraction of half the frame."""
        b, t, _ = track.shape
        sprite = self.sprite(cond).repeat_interleave(t, 0)  # (B*T, 4, 32, 32)
        flat = track.reshape(b * t, 3)
        cx, cy = flat[:, 0] * 2 - 1, flat[:, 1] * 2 - 1
        extent = (flat[:, 2] / SPRITE_FILL).clamp_min(1e-3)  # sprite half-width, frame units
        zero = torch.zeros_like(cx)
        theta = torch.stack([
            torch.stack([1 / extent, zero, -cx / extent], 1),
            torch.stack([zero, 1 / extent, -cy / extent], 1),
        ], 1)
        grid = F.affine_grid(theta, [b * t, 4, SIZE, SIZE], align_corners=False)
        placed = F.grid_sample(sprite, grid, align_corners=False, padding_mode="zeros")
        rgb, alpha = placed[:, :3], placed[:, 3:]
        frame = alpha * rgb + (1 - alpha) * torch.sigmoid(self.background).view(1, 3, 1, 1)
        return frame.view(b, t, 3, SIZE, SIZE)


class Generator(nn.Module):
    """(tokens, noise) -> clip (B, FRAMES, 3, 64, 64) in [0, 1].

    The noise is the layout (4 numbers in [0, 1)) followed by free normal noise.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.text = TextEncoder(cfg)
        noise = LAYOUT_DIMS + cfg.free_noise
        self.start = nn.Linear(cfg.cond + noise, cfg.dynamics)
        self.cell = nn.GRUCell(cfg.cond + noise + 1, cfg.dynamics)
        #: Reads each frame's object centre and size off the dynamics state.
        self.where = nn.Linear(cfg.dynamics, 3)
        self.decoder = FrameDecoder(cfg)

    def dynamics(self, cond: Tensor, noise: Tensor) -> Tensor:
        """The object track (B, FRAMES, 3) from the latent trajectory of a GRU cell."""
        inputs = torch.cat([cond, noise], 1)
        h = torch.tanh(self.start(inputs))
        steps = []
        for t in range(FRAMES):
            clock = torch.full_like(cond[:, :1], t / (FRAMES - 1))
            h = self.cell(torch.cat([inputs, clock], 1), h)
            steps.append(h)
        return torch.sigmoid(self.where(torch.stack(steps, 1)))

    def decode(self, cond: Tensor, track: Tensor) -> Tensor:
        return self.decoder(cond, track)

    def forward(self, tokens: Tensor, noise: Tensor) -> Tensor:
        cond = self.text(tokens)
        return self.decode(cond, self.dynamics(cond, noise))


class FrameDiscriminator(nn.Module):
    """Single frames (N, 3, 64, 64) + condition -> realism score, shape/colour logits."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        w = 16
        self.convs = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 4 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        )
        self.feat = nn.Linear(4 * w * 16, cfg.cond)
        self.score = nn.Linear(cfg.cond, 1)
        self.project = nn.Linear(cfg.cond, cfg.cond, bias=False)
        self.classify = nn.Linear(cfg.cond, N_CLASSES[0] + N_CLASSES[1])

    def features(self, frames: Tensor) -> Tensor:
        """Features (N, cond) of frames (N, 3, 64, 64)."""
        return F.leaky_relu(self.feat(self.convs(frames * 2 - 1).flatten(1)), 0.2)

    def forward(self, frames: Tensor, cond: Tensor) -> tuple[Tensor, Tensor]:
        return judge_features(self, self.features(frames), cond)


class VideoDiscriminator(nn.Module):
    """Clips of SEEN_FRAMES frames (B, 4, 3, 64, 64), seen at 32x32, + condition -> score,
    all-three logits. It sees every fourth frame of a clip (temporal subsampling), stacked
    along the channels (early fusion), which covers the whole motion cheaply."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        w = 32
        self.convs = nn.Sequential(
            nn.Conv2d(3 * SEEN_FRAMES + 2, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 2 * w, 4, 2, 1), nn.LeakyReLU(0.2),
        )
        self.feat = nn.Linear(2 * w * 4 * 4, cfg.cond)
        self.score = nn.Linear(cfg.cond, 1)
        self.project = nn.Linear(cfg.cond, cfg.cond, bias=False)
        self.classify = nn.Linear(cfg.cond, sum(N_CLASSES))

    def features(self, clips: Tensor) -> Tensor:
        """Features (B, cond) of clips (B, SEEN_FRAMES, 3, 64, 64)."""
        b, t = clips.shape[:2]
        small = F.avg_pool2d(clips.reshape(b * t, 3, SIZE, SIZE), 2).reshape(b, t * 3, 32, 32)
        x = self.convs(_coords(small * 2 - 1))
        return F.leaky_relu(self.feat(x.flatten(1)), 0.2)

    def forward(self, clips: Tensor, cond: Tensor) -> tuple[Tensor, Tensor]:
        return judge_features(self, self.features(clips), cond)


def judge_features(
    disc: FrameDiscriminator | VideoDiscriminator, f: Tensor, cond: Tensor
) -> tuple[Tensor, Tensor]:
    """Realism score (projection discriminator: unconditional term + <features, W cond>)
    and class logits from a discriminator's features."""
    return disc.score(f)[:, 0] + (f * disc.project(cond)).sum(1), disc.classify(f)


def seen_frames(offset: int) -> list[int]:
    """The frame indices a training step decodes and judges: every fourth from `offset`."""
    stride = FRAMES // SEEN_FRAMES
    return [offset % stride + stride * i for i in range(SEEN_FRAMES)]
