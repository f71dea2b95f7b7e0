"""A time-based progress bar: tqdm when installed, else one rewritten line on stderr."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """Shows elapsed seconds out of `total` with a short status text."""

    def __init__(self, total: float, *, enabled: bool = True) -> None:
        self.enabled, self.total, self.shown = enabled, total, 0
        self.bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=int(total), unit="s", mininterval=2.0, leave=True)

    def update(self, elapsed: float, text: str) -> None:
        """Move the bar to `elapsed` seconds and show `text`."""
        if not self.enabled:
            return
        done = min(int(elapsed), int(self.total))
        if self.bar is not None:
            self.bar.update(done - self.shown)
            self.bar.set_postfix_str(text, refresh=False)
        elif done > self.shown:
            print(f"\r{done}/{int(self.total)} s  {text}", end="", file=sys.stderr, flush=True)
        self.shown = done

    def note(self, text: str) -> None:
        """Print one line above the bar."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(f"\n{text}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr)
