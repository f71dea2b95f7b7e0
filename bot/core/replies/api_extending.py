"""What the HTTP API says about extending a video (`POST /v1/videos/extensions`); the refusals
it shares with `/extend` are in `extending`."""

from __future__ import annotations

API_EXTEND_UPLOAD = ("only a video of this server can be extended, by its id: send "
                     "video[id]=video_12 (in JSON, \"video\": {\"id\": \"video_12\"}), not a file")


API_EXTEND_NO_VIDEO = ("name the video to extend: video[id]=video_12 (in JSON, "
                       "\"video\": {\"id\": \"video_12\"})")


def api_extension_seconds(seconds: float, fps: int, frames: int) -> str:
    """How an extension's `seconds` became the frames its continuation renders: one more
    than it adds, for it opens on the clip's last frame."""
    return (f"{seconds:g} seconds at {fps} fps: {frames - 1} frames added (the continuation "
            f"renders {frames}, opening on the clip's last frame)")
