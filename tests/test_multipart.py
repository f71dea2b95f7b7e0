"""The whole-body multipart/form-data parser of the API, against bodies written by aiohttp's
own multipart writer (what clients send), and malformed ones; the body's media type, read as
aiohttp reads it."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from bot.web.forms import media_type
from bot.web.multipart import BadMultipart, Part, boundary_of, parse_form


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, chunk: bytes) -> None:
        self.data += chunk


async def written(form: aiohttp.FormData) -> tuple[bytes, str]:
    payload = form()
    sink = Sink()
    await payload.write(sink)
    return bytes(sink.data), f"{payload.content_type}; boundary={payload.boundary}"


async def test_fields_and_files_come_back_as_sent() -> None:
    image = b"\x89PNG\r\n\x1a\n\r\n--not-the-boundary\r\n\r\n\x00\xff" * 50
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("prompt", "a red ball; \"quoted\" — ünïcode\r\nsecond line")
    form.add_field("seed", "7")
    form.add_field("input_reference", image, filename="photo.png", content_type="image/png")
    body, content_type = await written(form)
    parts = parse_form(body, boundary_of(content_type))
    assert parts == [
        Part("prompt", None, "a red ball; \"quoted\" — ünïcode\r\nsecond line".encode()),
        Part("seed", None, b"7"),
        Part("input_reference", "photo.png", image),
    ]


def test_a_quoted_boundary_a_preamble_and_escapes_in_a_file_name() -> None:
    body = (b"preamble\r\n--b=1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
            b"--b=1\r\ncontent-disposition: form-data; name=file; "
            b"filename=\"my \\\"photo\\\".png\"\r\n\r\n\r\n--b=1--\r\nepilogue")
    assert boundary_of('multipart/form-data; boundary="b=1"') == "b=1"
    assert parse_form(body, "b=1") == [Part("a", None, b"x"),
                                       Part("file", 'my "photo".png', b"")]


@pytest.mark.parametrize(("body", "reason"), [
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "no closing boundary"),
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\nx\r\n--b--", "no blank line"),
    (b"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--", "not form-data"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "has no name"),
])
def test_malformed_bodies_say_what_is_wrong(body: bytes, reason: str) -> None:
    with pytest.raises(BadMultipart, match=reason):
        parse_form(body, "b")
    with pytest.raises(BadMultipart, match="no multipart boundary"):
        boundary_of("multipart/form-data")


@pytest.mark.parametrize("header", [
    None, "", "application/json", "Application/JSON; charset=utf-8", "text/plain",
    " multipart/form-data ; boundary=x", 'MULTIPART/Form-Data; boundary="a;b"',
    "application/x-www-form-urlencoded", "multipart", "a/b/c", "; boundary=x", "/",
])
def test_the_media_type_is_read_as_aiohttp_reads_it(header: str | None) -> None:
    headers = {} if header is None else {"Content-Type": header}
    assert media_type(header) == make_mocked_request("POST", "/", headers=headers).content_type
