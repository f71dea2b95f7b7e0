"""Captions for clip specs: many templates and synonyms, chosen by a seeded generator."""

from __future__ import annotations

import numpy as np

SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "ball", "disc", "dot", "sphere", "round shape"),
    "square": ("square", "box", "block", "cube", "tile"),
    "triangle": ("triangle", "pyramid", "wedge", "triangular shape"),
}
COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet"),
    "green": ("green", "lime"),
    "blue": ("blue", "navy"),
    "yellow": ("yellow", "golden"),
    "purple": ("purple", "violet"),
    "orange": ("orange", "amber"),
    "white": ("white", "snowy"),
}
#: Motion phrases that follow the noun ("a red ball ... moving to the left").
MOTION_PHRASES: dict[str, tuple[str, ...]] = {
    "left": ("moving left", "moving to the left", "slides left", "drifting leftward",
             "goes to the left", "travels left", "heading left", "rolling left"),
    "right": ("moving right", "moving to the right", "slides right", "drifting rightward",
              "goes to the right", "travels right", "heading right", "rolling right"),
    "up": ("moving up", "rising", "drifting upward", "goes up", "floating upwards",
           "climbing", "travels up", "ascending"),
    "down": ("moving down", "falling", "drifting downward", "goes down", "sinking",
             "dropping", "travels down", "descending"),
    "growing": ("growing", "getting bigger", "expanding", "grows larger", "swelling",
                "becoming larger", "inflating", "scaling up"),
    "shrinking": ("shrinking", "getting smaller", "contracting", "shrinks", "becoming smaller",
                  "deflating", "scaling down", "dwindling"),
    "still": ("staying still", "not moving", "standing still", "resting", "motionless",
              "stationary", "sitting still", "staying in place"),
}
FILLERS_BEFORE = ("", "", "", "a video of ", "a clip of ", "animation: ", "show ", "render ")
FILLERS_AFTER = ("", "", "", " on a dark background", " on a black background", " slowly",
                 " quickly", " in the frame")
ADJECTIVES = ("", "", "", "small ", "big ", "little ", "bright ", "simple ", "single ")
DETERMINERS = ("a ", "a ", "the ", "one ", "")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def caption(rng: np.random.Generator, shape: str, colour: str, motion: str) -> str:
    """One random caption of (shape, colour, motion); every caption names all three."""
    noun, col = _pick(rng, SHAPE_WORDS[shape]), _pick(rng, COLOUR_WORDS[colour])
    phrase = _pick(rng, MOTION_PHRASES[motion])
    det, adj = _pick(rng, DETERMINERS), _pick(rng, ADJECTIVES)
    form = int(rng.integers(0, 5))
    if form == 0:
        body = f"{det}{adj}{col} {noun} {phrase}"
    elif form == 1:
        body = f"{col} {noun}, {phrase}"
    elif form == 2:
        body = f"{det}{noun} that is {col} and {phrase}"
    elif form == 3:
        body = f"{phrase}: {det}{adj}{col} {noun}"
    else:
        body = f"{det}{adj}{noun}, colour {col}, {phrase}"
    return f"{_pick(rng, FILLERS_BEFORE)}{body}{_pick(rng, FILLERS_AFTER)}".strip()


#: Prompts for a picture: the motion alone, the object named vaguely or not at all.
MOTION_ONLY_FORMS = ("{phrase}", "it is {phrase}", "make it {phrase}", "the shape {phrase}",
                     "the object {phrase}", "{phrase}, please")


def motion_caption(rng: np.random.Generator, motion: str) -> str:
    """One random prompt naming only `motion` (what one says to animate a picture)."""
    form = _pick(rng, MOTION_ONLY_FORMS)
    body = form.format(phrase=_pick(rng, MOTION_PHRASES[motion]))
    return f"{_pick(rng, FILLERS_BEFORE)}{body}{_pick(rng, FILLERS_AFTER)}".strip()
