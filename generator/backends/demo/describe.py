"""`python -m generator.backends.demo.describe CLIP.mp4`: print what the demo captioner sees in
a clip ("a red circle moving left"). The bot runs it as a subprocess for `/describe`, so that
the bot process itself never imports torch."""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np

from generator.backends.demo.captioner import describe


def read_frames(path: Path) -> np.ndarray:
    """The clip's frames as RGB uint8 (frames, height, width, 3)."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m generator.backends.demo.describe CLIP.mp4", file=sys.stderr)
        return 2
    print(describe(read_frames(Path(args[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
