"""The HTTP API's error messages and the answers about its keys (/apikey, /admin apikey)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bot.core.replies.words import utc_moment
from storage.api_keys import ApiKeyRecord
from storage.models import JobStatus
from storage.records import JobRecord

APIKEY_USAGE = "write /apikey for a new key, /apikey list, or /apikey revoke <key number>"


ADMIN_APIKEY_USAGE = ("write /admin apikey create <user> [--name NAME] [--admin] [--webhook URL], "
                      "/admin apikey list [user], /admin apikey revoke <key number> or "
                      "/admin apikey secret")


APIKEY_PRIVATE_ONLY = "ask for a key in a private chat with me: here others would see it"


API_DISABLED = "the HTTP API is not enabled on this bot ([api] in the config turns it on)"


API_KEY_MISSING = "no API key: send one as the header Authorization: Bearer <key> (/apikey)"


API_KEY_UNKNOWN = "the API key is unknown or has been revoked"


API_ADMIN_ONLY = "only an admin key may act for another user"




API_SECONDS_AND_FRAMES = "frames was given, so seconds was ignored"


def api_key_made(key: ApiKeyRecord, secret_key: str, base_url: str | None) -> str:
    """A new key, as the last line: shown this once."""
    name = f" ({key.name})" if key.name else ""
    lines = [f"API key #{key.id} for {key.user.key}{name}{', admin' if key.admin else ''}."]
    if base_url:
        lines.append(f"Use it as the api_key of an OpenAI client, with base_url {base_url}.")
    if key.webhook_url:
        lines.append(f"Its webhook {key.webhook_url} is signed with {key.webhook_secret}")
    return "\n".join([*lines, "Shown only this once; keep it secret:", secret_key])


def api_key_listing(keys: Sequence[ApiKeyRecord], *, mine: bool) -> str:
    if not keys:
        return "You have no API key; /apikey makes one." if mine else "No API key yet."
    lines = [f"{len(keys)} API keys:"]
    for key in keys:
        state = f"revoked {utc_moment(key.revoked_at)}" if key.revoked_at else "live"
        extra = "".join([f" {key.name!r}" if key.name else "", ", admin" if key.admin else "",
                         f", webhook {key.webhook_url}" if key.webhook_url else ""])
        owner = "" if mine else f" for {key.user.key}"
        lines.append(f"  #{key.id} {key.prefix}…{owner}{extra}, made {utc_moment(key.created_at)}, "
                     f"{state}")
    return "\n".join(lines)


def api_key_revoked(key: ApiKeyRecord) -> str:
    return f"API key #{key.id} ({key.prefix}…) is revoked: it no longer works."


def webhook_secret_made(secret: str) -> str:
    return ("A new webhook secret, for [api] webhook_secret (or VIDEOBOT_API_WEBHOOK_SECRET):\n"
            + secret)


def bad_key_id(text: str) -> str:
    return f"{text!r} is not a key number; /apikey list shows them"


def bad_webhook_url(text: str) -> str:
    return f"{text!r} is not an http(s) URL for --webhook"


def api_failure(job: JobRecord) -> str:
    """Why a job made no clip, for the video object's `error.message`."""
    if job.status == JobStatus.CANCELLED:
        return "the job was cancelled"
    return job.error or "no reason was recorded"


def api_no_video(video_id: str) -> str:
    return f"there is no video {video_id!r}"


def api_no_content(video_id: str, status: str) -> str:
    return f"video {video_id} has no content: it is {status}"


def api_clip_gone(video_id: str) -> str:
    return f"the clip of video {video_id} is no longer stored (old clips are deleted)"


def api_no_preview(video_id: str, status: str) -> str:
    if status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return (f"video {video_id} has no preview yet: it is {status}, and previews come every "
                "few steps of a render whose model makes them")
    return (f"video {video_id} has no preview: it is {status}, and a preview is kept for an "
            "hour after its video ends")


def api_seconds_as_frames(seconds: float, fps: int, frames: int) -> str:
    return f"{seconds:g} seconds at {fps} fps: {frames} frames"


def api_bad_json(detail: str) -> str:
    return f"the body is not valid JSON ({detail})"


def api_bad_form(reason: str) -> str:
    return f"the body is not valid multipart/form-data: {reason}"


def api_content_type(content_type: str) -> str:
    return (f"send the body as application/json or multipart/form-data, not "
            f"{content_type or 'without a Content-Type'}")


def api_too_large(limit_mb: float) -> str:
    return f"the request is larger than the {limit_mb:g} MB this server accepts"


def api_bad_value(name: str, words: str, value: object) -> str:
    """A field of the wrong type or shape: `size must be WIDTHxHEIGHT, not '0x0'`."""
    return f"{name} must be {words}, not {value!r}"


def api_unknown_field(name: str, fields: Collection[str]) -> str:
    return f"unknown field {name!r}; the fields are {', '.join(fields)}"


def api_no_route(method: str, path: str) -> str:
    return f"there is no {method} {path} in this API; see /v1/videos and /v1/models"
