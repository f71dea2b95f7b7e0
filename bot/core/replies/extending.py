"""What a user reads about extending a clip (/extend and the Extend button)."""

from __future__ import annotations

from collections.abc import Sequence

NO_CLIP_TO_EXTEND = ("you have no finished clip to extend; make one with /video, or name a "
                     "job: /extend 12")


def extend_bad_job(text: str) -> str:
    return f"{text!r} is not a job number; write e.g. /extend 12, or /extend 12 a new prompt"


def no_clip_yet(job_id: int, status: str) -> str:
    """The job to extend has not (or never) made a clip."""
    return f"job #{job_id} has no clip to extend (it is {status})"


def clip_gone(job_id: int) -> str:
    return f"the clip of job #{job_id} is no longer stored, so it cannot be extended"


def cannot_extend(preset: str, able: Sequence[str]) -> str:
    """A preset that renders from text alone cannot continue a clip from its last frame."""
    others = ", ".join(able) if able else "none is configured"
    return (f"the preset {preset} makes clips from text only and cannot continue one; the "
            f"presets that can extend a clip: {others}")


def extend_too_long(job_id: int, seconds: float, added: float, limit: float,
                    preset: str) -> str:
    return (f"job #{job_id}'s clip is {seconds:.1f} s long; {added:.1f} s more would pass "
            f"the {limit:g} s that clips of the preset {preset} may reach")


def extends_line(job_id: int) -> str:
    """The caption's (and acknowledgement's) word on an extension."""
    return f"Extends job #{job_id}: its clip, then the continuation, as one clip."
