"""python-telegram-bot's Bot API calls on aiohttp (already our webhook server) instead of its
default httpx: the same requests for about a third of the CPU each, which a burst of commands
feels (and httpx tries to import the missing `sniffio` on every call)."""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: PTB's own defaults (those of its HTTPXRequest), in seconds.
READ_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0
POOL_TIMEOUT_S = 1.0
#: The class of PTB's "not given" timeouts (`DEFAULT_NONE` and its kin).
_NotGiven = type(BaseRequest.DEFAULT_NONE)


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session of up to `connection_pool_size` connections.

    Timeouts mean what they mean to PTB, except that aiohttp has no write timeout (an upload
    is bounded by its read timeout). Proxies come from the environment, as with httpx."""

    def __init__(self, *, connection_pool_size: int = 256,
                 read_timeout: float | None = READ_TIMEOUT_S) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size), trust_env=True,
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("this AiohttpRequest is not initialized")
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, CONNECT_TIMEOUT_S)
        pool = _given(pool_timeout, POOL_TIMEOUT_S)
        # aiohttp's `connect` is the wait for a pooled connection plus a new one's connect.
        timeout = aiohttp.ClientTimeout(
            sock_read=read, sock_connect=connect,
            connect=None if connect is None or pool is None else connect + pool)
        try:
            async with self._session.request(method, url, data=_body(request_data),
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # before ClientError: aiohttp's timeouts are both
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _body(request_data: RequestData | None) -> Any:
    """A form, multipart when there are files to upload."""
    if request_data is None:
        return None
    fields, files = request_data.json_parameters, request_data.multipart_data
    if not files:
        return fields
    form = aiohttp.FormData(fields)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, _NotGiven) else value
