"""The body of `POST /v1/videos/extensions` (OpenAI's `client.videos.extend`): the video to
extend, by id, and the continuation's prompt and length.

The SDK sends the reference as the multipart field `video[id]`; a JSON body says
`"video": {"id": ...}`. A video file sent instead is refused: only a clip of this server (its
last frame, its settings and seed) can be continued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core import replies
from bot.web.errors import ApiError
from bot.web.forms import frames_for, typed_form

#: OpenAI's fields (`video[id]` is how its multipart encoder writes `video={"id": ...}`), then
#: the user an admin key acts for.
EXTEND_FIELDS = ("prompt", "seconds", "video", "video[id]", "user")


@dataclass(frozen=True)
class ExtendForm:
    """An extension as asked: the video id, the prompt ("": the source's own), the seconds
    to add (None: the preset's clip length), and the user an admin key acts for."""

    video_id: str
    prompt: str
    seconds: float | None
    user: str | None

    def continuation_frames(self, fps: int) -> tuple[int | None, list[str]]:
        """The frames the continuation renders at `fps` (None: the preset's own) and the note
        that says so: one more than `seconds` adds, for it opens on the clip's last frame."""
        if self.seconds is None:
            return None, []
        frames = frames_for(self.seconds, fps) + 1
        return frames, [replies.api_extension_seconds(self.seconds, fps, frames)]


def extend_form(values: dict[str, Any]) -> ExtendForm:
    """The fields of `read_fields(..., EXTEND_FIELDS)` as an `ExtendForm`; `ApiError` (400)
    naming a field of the wrong shape, or a file sent as the video."""
    video_id = _video_id(values)
    typed = typed_form({name: value for name, value in values.items()
                        if name in ("prompt", "seconds", "user")})
    return ExtendForm(video_id, typed.prompt, typed.seconds, typed.user)


def _video_id(values: dict[str, Any]) -> str:
    video = values.get("video")
    if isinstance(video, bytes):  # a file: only this server's clips continue
        raise ApiError(400, replies.API_EXTEND_UPLOAD, code="invalid_value", param="video")
    if isinstance(video, dict) and set(video) == {"id"}:
        reference = video["id"]
    elif video is None and "video[id]" in values:
        reference = values["video[id]"]
    else:
        raise ApiError(400, replies.API_EXTEND_NO_VIDEO, code="invalid_value", param="video")
    if not isinstance(reference, str):
        raise ApiError(400, replies.api_bad_value("video.id", "a video id, e.g. video_12",
                                                  reference),
                       code="invalid_value", param="video")
    return reference
