"""The bodies of `POST /v1/videos` and its remix: JSON, or multipart/form-data (which the
OpenAI SDK always sends for a create, file or not; its fields then arrive as text), read into
the typed options a chat `/video` would have. A field of the wrong shape is refused here,
naming it; whether a value is allowed is the core's to say, in the chat's words."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.core import replies
from bot.web.errors import ApiError
from bot.web.multipart import BadMultipart, boundary_of, parse_form

#: OpenAI's fields, then ours (sent through the SDK's `extra_body`).
CREATE_FIELDS = ("prompt", "model", "seconds", "size", "input_reference", "negative_prompt",
                 "seed", "steps", "guidance", "frames", "fps", "user")
REMIX_FIELDS = ("prompt", "user")
_INTEGERS = ("seed", "steps", "frames", "fps")
_SIZE = re.compile(r"^\s*(\d{1,9})\s*[xX\u00d7]\s*(\d{1,9})\s*$")
_WHOLE = re.compile(r"^\s*[-+]?\d{1,30}\s*$")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
#: Fields the SDK may send as a file that this server takes by reference only (an extension's
#: `video`).
_OTHER_FILES = ("video",)
_DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class VideoForm:
    """A request as the core takes it: the prompt, the chat options it sets, the clip's
    length in seconds (OpenAI's way, turned into frames with the preset's fps), an image,
    and the user an admin key acts for."""

    prompt: str
    overrides: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    image: bytes | None = None
    user: str | None = None


async def read_form(request: web.Request, fields: tuple[str, ...], *,
                    max_bytes: int) -> VideoForm:
    """The body as a `VideoForm`; `ApiError` (400, 413, 415) naming what is wrong."""
    return typed_form(await read_fields(request, fields, max_bytes=max_bytes))


async def read_fields(request: web.Request, fields: tuple[str, ...], *,
                      max_bytes: int) -> dict[str, Any]:
    """The body's values by field name (a file's as bytes), each one of `fields`; `ApiError`
    (400, 413, 415) naming what is wrong. A body over `max_bytes` is refused before it is
    read, by its Content-Length (one sent without a length is held to the server's limit as
    it arrives)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes,
                                            actual_size=request.content_length)
    values = await _body(request, fields)
    unknown = [name for name in values if name not in fields]
    if unknown:
        raise ApiError(400, replies.api_unknown_field(unknown[0], fields),
                       code="unknown_parameter", param=unknown[0])
    return values


#: More frames than any preset takes, and few enough to stay a number (1e308 seconds...).
_FRAMES_CEILING = 10**9


def frames_for(seconds: float, fps: int) -> int:
    """A clip of `seconds` at `fps`, in frames (the model family rounds it further; the core
    refuses more than the preset's cap)."""
    return max(1, round(min(seconds * fps, _FRAMES_CEILING)))


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower case, as aiohttp's `content_type` reads
    it (application/octet-stream for none or a malformed one). aiohttp parses the header with
    the `email` package, caching by the whole header; a multipart header's boundary differs
    in every request, so that parse cost more CPU than anything else of a create."""
    if content_type is None:
        return _DEFAULT_MEDIA_TYPE
    media = content_type.partition(";")[0].strip().lower()
    return media if media.count("/") == 1 else _DEFAULT_MEDIA_TYPE


async def _body(request: web.Request, fields: tuple[str, ...]) -> dict[str, Any]:
    content_type = media_type(request.headers.get("Content-Type"))
    if content_type == "application/json":
        return _json_object(await request.read())
    if content_type in _FORM_TYPES:
        return await _form(request, content_type, fields)
    raise ApiError(415, replies.api_content_type(request.headers.get("Content-Type", "")),
                   code="unsupported_media_type")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, replies.api_bad_json(str(exc)), code="invalid_json") from None
    except RecursionError:
        raise ApiError(400, replies.api_bad_json("it is nested too deeply"),
                       code="invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, replies.api_bad_json("it must be an object of fields"),
                       code="invalid_json")
    if "input_reference" in body:
        raise _bad("input_reference", "an image file sent as multipart/form-data",
                   body["input_reference"])
    return body


async def _form(request: web.Request, content_type: str,
                fields: tuple[str, ...]) -> dict[str, Any]:
    """The form's fields as text, and the image's bytes. The body is read whole, held by
    aiohttp to the server's `client_max_size` (the upload limit) as it arrives."""
    if content_type != "multipart/form-data":
        encoded = dict(await request.post())
        if "input_reference" in encoded:  # a file needs multipart
            raise _bad("input_reference", "an image file sent as multipart/form-data",
                       encoded["input_reference"])
        return encoded
    body = await request.read()
    try:
        parts = parse_form(body, boundary_of(request.headers.get("Content-Type", "")))
    except BadMultipart as exc:
        raise ApiError(400, replies.api_bad_form(str(exc)), code="invalid_multipart") from None
    values: dict[str, Any] = {}
    for part in parts:
        if part.name == "input_reference" and "input_reference" in fields:
            if part.filename is None:
                raise _bad("input_reference", "an image file", part.data.decode(
                    errors="replace"))
            values[part.name] = part.data
        elif part.filename is not None and part.name in _OTHER_FILES and part.name in fields:
            values[part.name] = part.data  # kept a file, for the route to refuse by name
        else:
            values[part.name] = part.data.decode("utf-8", errors="replace")
    return values


def typed_form(values: dict[str, Any]) -> VideoForm:
    """`values` (of `read_fields`) as a `VideoForm`: each field checked for its type."""
    overrides: dict[str, Any] = {}
    for name in _INTEGERS:
        if name in values:
            overrides[name] = _whole(name, values[name])
    if "guidance" in values:
        overrides["guidance"] = _number("guidance", values["guidance"], "a number")
    for name, option in (("model", "preset"), ("negative_prompt", "negative_prompt")):
        if name in values:
            overrides[option] = _text(name, values[name])
    if "size" in values:
        overrides["width"], overrides["height"] = _size(values["size"])
    seconds = None
    if "seconds" in values:
        seconds = _number("seconds", values["seconds"], "a positive number of seconds, e.g. 4")
        if seconds <= 0:
            raise _bad("seconds", "a positive number of seconds, e.g. 4", values["seconds"])
    user = _text("user", values["user"]) if "user" in values else None
    return VideoForm(_text("prompt", values.get("prompt", "")), overrides, seconds,
                     values.get("input_reference"), user)


def _whole(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.match(value):
        return int(value)
    raise _bad(name, "a whole number", value)


def _number(name: str, value: Any, words: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad(name, words, value)
    try:
        number = float(value)
    except ValueError:
        raise _bad(name, words, value) from None
    if not math.isfinite(number):
        raise _bad(name, "a finite number", value)
    return number


def _text(name: str, value: Any) -> str:
    # NUL is no character of a prompt, and PostgreSQL cannot store it in text.
    if not isinstance(value, str) or "\x00" in value:
        raise _bad(name, "text (without NUL characters)", value)
    return value


def _size(value: Any) -> tuple[int, int]:
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise _bad("size", "WIDTHxHEIGHT in pixels, e.g. 256x256", value)
    return int(match.group(1)), int(match.group(2))


def _bad(name: str, words: str, value: Any) -> ApiError:
    shown = value if not isinstance(value, str) or len(value) <= 60 else value[:60] + "…"
    return ApiError(400, replies.api_bad_value(name, words, shown), code="invalid_value",
                    param=name)
