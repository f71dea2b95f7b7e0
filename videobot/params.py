"""The parameters of one clip, as every part of videobot passes them around."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RenderRequest:
    """Everything a backend needs to render one clip; also what a caption must carry to
    reproduce it."""

    prompt: str
    negative_prompt: str
    frames: int
    fps: int
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    preset: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderRequest:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> RenderRequest:
        return dataclasses.replace(self, **changes)
