"""multipart/form-data (RFC 7578) parsed whole, from a body already read and held to the
upload limit: the OpenAI SDK sends every create this way, and aiohttp's streaming reader
costs more CPU than all the rest of a request (it builds a regular expression for each part
header), which a burst of requests pays on the bot's one event loop."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOUNDARY = re.compile(r';\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))', re.IGNORECASE)
_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_ESCAPED = re.compile(r"\\(.)")


class BadMultipart(ValueError):
    """The body is not the multipart/form-data its Content-Type says; the message says how."""


@dataclass(frozen=True)
class Part:
    """One field: its name, the file name it was sent under (None for a plain field), and
    its bytes."""

    name: str
    filename: str | None
    data: bytes


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart Content-Type header."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise BadMultipart("the Content-Type header names no multipart boundary")
    return match.group(1) or match.group(2)


def parse_form(body: bytes, boundary: str) -> list[Part]:
    """The parts of `body`, in order; `BadMultipart` when it is not well formed."""
    sections = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(sections) < 2 or not sections[-1].startswith(b"--"):
        raise BadMultipart("the multipart body is cut short: it has no closing boundary")
    return [_part(section) for section in sections[1:-1]]


def _part(section: bytes) -> Part:
    head, separator, data = section.lstrip(b" \t").removeprefix(b"\r\n").partition(
        b"\r\n\r\n")
    if not separator:
        raise BadMultipart("a part of the multipart body has no blank line after its headers")
    headers = {}
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    if not disposition.lower().startswith("form-data"):
        raise BadMultipart("a part of the multipart body is not form-data")
    params = {key.lower(): _unquoted(value) for key, value in _PARAM.findall(disposition)}
    if "name" not in params:
        raise BadMultipart("a part of the multipart body has no name")
    filename = params.get("filename", params.get("filename*"))
    return Part(params["name"], filename, data)


def _unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        return _ESCAPED.sub(r"\1", inner) if "\\" in inner else inner
    return value
