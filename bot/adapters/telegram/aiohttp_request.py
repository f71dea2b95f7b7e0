"""python-telegram-bot's Bot API calls on aiohttp (already our webhook server) instead of its
default httpx: the same requests for about a third of the CPU each, which a burst of commands
feels (and httpx tries to import the missing `sniffio` on every call).

The proxy comes from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...), looked up once per host
as httpx does when its client is made, not on every call: aiohttp's `trust_env` looks it up,
and reads `~/.netrc`, in a worker thread for each request, two thread handoffs per call that
queue beside the database's."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

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
        #: The proxy of each origin ("https://api.telegram.org"), None for a direct connection.
        self._proxies: dict[str, _Proxy] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
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
        parts = urlsplit(url)
        proxy = self._proxies.get(origin := f"{parts.scheme}://{parts.netloc}")
        if proxy is None:
            proxy = self._proxies[origin] = _env_proxy(parts.scheme, parts.hostname)
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout,
                **proxy.options(parts.scheme),
            ) as response:
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


@dataclass(frozen=True)
class _Proxy:
    """How to reach an origin: through `url` (with `headers` for its login), or directly."""

    url: str | None = None
    headers: dict[str, str] | None = None

    def options(self, scheme: str) -> dict[str, Any]:
        """aiohttp's request keywords: the login goes with the CONNECT of an HTTPS request,
        and with the request itself when a plain HTTP one is sent through the proxy."""
        if self.url is None:
            return {}
        login = "proxy_headers" if scheme == "https" else "headers"
        return {"proxy": self.url, login: self.headers}


def _env_proxy(scheme: str, host: str | None) -> _Proxy:
    """The environment's proxy for `scheme://host` (the variables urllib and httpx read)."""
    if host is None or proxy_bypass(host):
        return _Proxy()
    address = getproxies().get(scheme)
    if not address:
        return _Proxy()
    proxy = urlsplit(address)
    if proxy.username is None:
        return _Proxy(address)
    login = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    bare = proxy._replace(netloc=proxy.netloc.rpartition("@")[2]).geturl()
    return _Proxy(bare, {"Proxy-Authorization": f"Basic {base64.b64encode(login).decode()}"})


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, _NotGiven) else value
