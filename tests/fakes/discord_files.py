"""Files users attach to a slash command, for the Discord fake: an `attachment` option (type
11) carries the attachment's id, the attachment itself comes in the interaction's
`resolved.attachments`, and its `url` is served on 127.0.0.1 as Discord's CDN serves it
(404 once it is gone)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

#: Attachment ids (snowflakes of their own, apart from the fake's other ids).
_FIRST_ID = 740000000000000001


@dataclass(frozen=True)
class FakeAttachment:
    """A file a user attached: pass it as an option's value to `FakeDiscord.command`."""

    id: int
    filename: str
    data: bytes
    content_type: str


@dataclass
class Attachments:
    """The attached files, by id; `reads` lists the ids fetched from the CDN."""

    _files: dict[int, FakeAttachment] = field(default_factory=dict)
    reads: list[int] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(_FIRST_ID))

    def add(self, data: bytes, filename: str, content_type: str) -> FakeAttachment:
        attachment = FakeAttachment(next(self._ids), filename, data, content_type)
        self._files[attachment.id] = attachment
        return attachment

    def remove(self, attachment: FakeAttachment) -> None:
        """The file is gone from the CDN (its download answers 404)."""
        self._files.pop(attachment.id, None)

    def resolved(self, attachment: FakeAttachment, cdn_url: str) -> dict[str, Any]:
        """The attachment as `resolved.attachments` carries it."""
        url = f"{cdn_url}/attachments/{attachment.id}/{attachment.filename}"
        return {"id": str(attachment.id), "filename": attachment.filename,
                "size": len(attachment.data), "url": url, "proxy_url": url,
                "content_type": attachment.content_type, "ephemeral": True}

    def download(self, request: web.Request) -> web.Response:
        """`GET /attachments/<id>/<filename>`."""
        attachment = self._files.get(int(request.match_info["id"]))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        self.reads.append(attachment.id)
        return web.Response(body=attachment.data, content_type=attachment.content_type)


def attachment_option(name: str, attachment: FakeAttachment) -> dict[str, Any]:
    """An `attachment` option: its value is the attachment's id."""
    return {"name": name, "type": 11, "value": str(attachment.id)}
