"""Files users send, as the Bot API keeps them, for the Telegram fake: a photo (several JPEG
sizes, as Telegram makes them) or a document, with a caption; `getFile` gives a file's
`file_path`, and `GET /file/bot<token>/<file_path>` serves its bytes.

As Telegram does, `getFile` refuses files over 20 MB ("file is too big": bots download at most
that), and the download answers 404 for a path it does not know or a wrong token.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram

#: The Bot API's download limit for bots.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
#: The longest sides of the sizes Telegram keeps of a photo (s, m, x, y, w).
PHOTO_SIDES = (90, 320, 800, 1280, 2560)


@dataclass
class UserFiles:
    """Every file users sent, by file id; `downloads` lists the file ids fetched."""

    _data: dict[str, bytes] = field(default_factory=dict)
    _paths: dict[str, str] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    #: Files whose download answers 404 (gone from the file server after `getFile`).
    gone: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, data: bytes, suffix: str) -> dict[str, Any]:
        """Keep `data`; its `file_id`, `file_unique_id` and `file_size`."""
        number = next(self._ids)
        file_id = f"F{number}"
        self._data[file_id] = data
        self._paths[f"files/file_{number}.{suffix}"] = file_id
        return {"file_id": file_id, "file_unique_id": f"U{number}", "file_size": len(data)}

    def get_file(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        """`getFile`: the file's path to download it from, or the Bot API's refusal."""
        file_id = str(params.get("file_id", ""))
        if file_id not in self._data:
            return _error(400, "Bad Request: invalid file_id")
        if len(self._data[file_id]) > MAX_DOWNLOAD_BYTES:
            return _error(400, "Bad Request: file is too big")
        path = next(p for p, i in self._paths.items() if i == file_id)
        return {"file_id": file_id, "file_unique_id": f"U{file_id[1:]}",
                "file_size": len(self._data[file_id]), "file_path": path}

    def download(self, request: web.Request, token: str) -> web.Response:
        """`GET /file/bot<token>/<file_path>`."""
        file_id = self._paths.get(request.match_info["path"])
        if request.match_info["token"] != token or file_id is None or file_id in self.gone:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(file_id)
        return web.Response(body=self._data[file_id], content_type="application/octet-stream")

    def photo_sizes(self, picture: bytes) -> list[dict[str, Any]]:
        """The JPEG sizes Telegram keeps of a photo, smallest first."""
        with Image.open(io.BytesIO(picture)) as opened:
            image = opened.convert("RGB")
        sizes: list[dict[str, Any]] = []
        for side in PHOTO_SIDES:
            scaled = image.copy()
            scaled.thumbnail((side, side))
            if sizes and (sizes[-1]["width"], sizes[-1]["height"]) == scaled.size:
                break
            out = io.BytesIO()
            scaled.save(out, format="JPEG", quality=87)
            sizes.append({**self.add(out.getvalue(), "jpg"), "width": scaled.width,
                          "height": scaled.height})
        return sizes


def push_photo(api: FakeTelegram, *, chat_id: int, user_id: int, picture: bytes,
               caption: str = "", chat_type: str = "private",
               reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    """A user sends a photo (`picture` in any format PIL reads) with `caption` (as a reply to
    `reply_to`)."""
    message = _captioned(api, chat_id=chat_id, user_id=user_id, caption=caption,
                         chat_type=chat_type, reply_to=reply_to)
    message["photo"] = api.user_files.photo_sizes(picture)
    api.push_update({"message": message})
    return message


def push_document(api: FakeTelegram, *, chat_id: int, user_id: int, data: bytes,
                  file_name: str, mime_type: str, caption: str = "",
                  chat_type: str = "private") -> dict[str, Any]:
    """A user sends a file as a document (Telegram keeps it as it is) with `caption`."""
    message = _captioned(api, chat_id=chat_id, user_id=user_id, caption=caption,
                         chat_type=chat_type)
    suffix = file_name.rpartition(".")[2] or "bin"
    message["document"] = {**api.user_files.add(data, suffix), "file_name": file_name,
                           "mime_type": mime_type}
    api.push_update({"message": message})
    return message


def _captioned(api: FakeTelegram, *, chat_id: int, user_id: int, caption: str,
               chat_type: str, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    """A user's message with no text, its caption (and a command's entity) set."""
    message = api.user_message(chat_id=chat_id, user_id=user_id, text="", chat_type=chat_type,
                               reply_to=reply_to)
    del message["text"]
    if caption:
        message["caption"] = caption
    entities = []
    if caption.startswith("/"):
        length = len(caption.split(" ", 1)[0])
        entities.append({"type": "bot_command", "offset": 0, "length": length})
    entities += mention_entities(caption)
    if entities:
        message["caption_entities"] = entities
    return message


def mention_entities(text: str) -> list[dict[str, Any]]:
    """The `@username` mentions Telegram finds in `text`, offsets in UTF-16 code units."""
    return [{"type": "mention", "offset": _utf16_length(text[:found.start()]),
             "length": _utf16_length(found.group())}
            for found in re.finditer(r"(?<!\w)@\w{5,32}", text)]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description},
                             status=status)
