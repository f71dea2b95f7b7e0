"""Photos in the Telegram Bot API fake: `sendPhoto`, `editMessageCaption` and
`editMessageMedia` as Telegram answers them, and the Bot API's error replies."""

from __future__ import annotations

import io
import time
from typing import Any

from aiohttp import web
from PIL import Image

#: What a message holds that `editMessageMedia` replaces and a caption can go with.
MEDIA_KINDS = frozenset({"photo", "video", "animation", "document", "audio"})


def photo_sizes(data: bytes, serial: int) -> list[dict[str, Any]] | None:
    """The `PhotoSize` Telegram makes of an uploaded image, or None when it is none."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (OSError, ValueError):
        return None
    return [{"file_id": f"p{serial}", "file_unique_id": f"pu{serial}", "width": width,
             "height": height, "file_size": len(data)}]


def set_caption(message: dict[str, Any], caption: str) -> None:
    message.pop("caption", None)
    if caption:
        message["caption"] = caption


def edited(message: dict[str, Any], markup: Any) -> dict[str, Any]:
    """An edit without `reply_markup` removes the buttons, as on Telegram."""
    message.pop("reply_markup", None)
    if markup:
        message["reply_markup"] = markup
    message["edit_date"] = int(time.time())
    return message


def not_modified() -> web.Response:
    return error(400, "Bad Request: message is not modified: specified new message content "
                      "and reply markup are exactly the same as a current content and reply "
                      "markup of the message")


def photo_content(params: dict[str, Any], files: dict[str, bytes],
                  serial: int) -> dict[str, Any] | web.Response:
    """What a `sendPhoto` message holds: the photo's sizes and its caption."""
    if "photo" not in files:
        return error(400, "Bad Request: there is no photo in the request")
    sizes = photo_sizes(files["photo"], serial)
    if sizes is None:
        return error(400, "Bad Request: IMAGE_PROCESS_FAILED")
    content: dict[str, Any] = {"photo": sizes}
    if params.get("caption"):
        content["caption"] = params["caption"]
    return content


def edit_caption(message: dict[str, Any], params: dict[str, Any]) -> Any:
    """`editMessageCaption` of `message`: the edited message, or Telegram's refusal."""
    if not MEDIA_KINDS & message.keys():
        return error(400, "Bad Request: there is no caption in the message to edit")
    caption, markup = params.get("caption") or "", params.get("reply_markup")
    if message.get("caption", "") == caption and message.get("reply_markup") == markup:
        return not_modified()
    set_caption(message, caption)
    return edited(message, markup)


def edit_media(message: dict[str, Any], params: dict[str, Any], files: dict[str, bytes], *,
               serial: int, adds_media_to_text: bool) -> Any:
    """`editMessageMedia` of `message` to a photo uploaded as an `attach://` part."""
    media = params.get("media")
    if not isinstance(media, dict) or media.get("type") != "photo":
        return error(400, "Bad Request: can't parse InputMedia: media type is not supported "
                          "here")
    reference = str(media.get("media", ""))
    data = files.get(reference.removeprefix("attach://"))
    if not reference.startswith("attach://") or data is None:
        return error(400, "Bad Request: wrong file identifier/HTTP URL specified")
    if not MEDIA_KINDS & message.keys() and not adds_media_to_text:
        return error(400, "Bad Request: there is no media in the message to edit")
    sizes = photo_sizes(data, serial)
    if sizes is None:
        return error(400, "Bad Request: IMAGE_PROCESS_FAILED")
    for kind in (*MEDIA_KINDS, "text", "entities"):
        message.pop(kind, None)
    message["photo"] = sizes
    set_caption(message, media.get("caption") or "")
    return edited(message, params.get("reply_markup"))


def error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
