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
        # Every field is a str, int or float: a plain copy is what `asdict` would make,
        # without its deep copies (a submission builds one).
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderRequest:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def replace(self, **changes: Any) -> RenderRequest:
        return dataclasses.replace(self, **changes)


_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(RenderRequest))
