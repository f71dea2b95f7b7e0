"""A clip's parameters as a dict: what `dataclasses.asdict` makes, as plain values."""

from __future__ import annotations

import dataclasses

from videobot.params import RenderRequest


def test_to_dict_is_asdict_and_every_field_is_a_plain_value() -> None:
    request = RenderRequest(prompt="a ball", negative_prompt="blur", frames=8, fps=8, width=32,
                            height=48, steps=2, guidance=1.5, seed=7, preset="tiny")
    assert request.to_dict() == dataclasses.asdict(request)
    assert list(request.to_dict()) == [field.name for field in dataclasses.fields(request)]
    # `to_dict` copies no value: that is only right while none can be changed in place.
    assert {field.type for field in dataclasses.fields(request)} <= {"str", "int", "float"}
    assert RenderRequest.from_dict(request.to_dict()) == request
