"""A small Telegram Bot API server for tests: the real python-telegram-bot client talks to it
through `api_base_url`.

It speaks the real wire format (`POST {base_url}{token}/{method}`, form or multipart bodies,
non-string values as JSON text, `{"ok": ..., "result": ...}` replies), keeps the messages the
bot sent so that edits and deletions behave, records every call for assertions, lets a test
push updates (served by long-polling `getUpdates`), inject errors (`fail_next`) and run code
between handling a call and answering it (`before_answer`: the window a crash can fall in).

Photos: `sendPhoto` takes the file as its `photo` part; `editMessageMedia` takes an
`InputMedia` whose `media` is `attach://<part>`, and the message becomes a photo message
(`photo` sizes, `caption`). Its refusals are worded as the Bot API words them: "there is no
media in the message to edit" (from a Bot API server too old to add a photo to a text
message: `FakeTelegram(adds_media_to_text=False)`), "there is no text in the message to
edit" (`editMessageText` of a photo), "there is no caption in the message to edit", and
"message is not modified".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from tests.fakes import LISTEN_BACKLOG
from tests.fakes import telegram_media as media
from tests.fakes import telegram_replies as asking
from tests.fakes.telegram_files import UserFiles
from tests.fakes.telegram_media import edited, error, not_modified

TOKEN = "123456:AAH-fake-token-for-tests_0123456789"
BOT_ID = 123456
BOT_USERNAME = "VideoTestBot"
#: Values that are text even when they look like JSON (a prompt of "42" stays a string).
_TEXT_PARAMS = {"text", "caption", "callback_query_id", "secret_token", "url", "data"}

@dataclass
class Call:
    """One request the bot made: its method, decoded parameters, uploaded files and headers."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    times: int
    status: int
    description: str
    retry_after: int | None


class FakeTelegram:
    """The fake Bot API. Use as `async with FakeTelegram() as api:`; `api.base_url` is what
    the bot's `api_base_url` must be."""

    def __init__(self, *, token: str = TOKEN, username: str = BOT_USERNAME,
                 adds_media_to_text: bool = True) -> None:
        """`adds_media_to_text`: whether `editMessageMedia` may turn a text message into a
        photo (the Bot API as python-telegram-bot 22.8 documents it) or refuses (older
        Bot API servers)."""
        self.token = token
        self.adds_media_to_text = adds_media_to_text
        self.me = {"id": BOT_ID, "is_bot": True, "first_name": "Video", "username": username,
                   "can_join_groups": True, "can_read_all_group_messages": False,
                   "supports_inline_queries": False}
        self.calls: list[Call] = []
        #: (chat id, message id) -> the message as the API would return it now.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {}
        #: Photos and documents users sent (tests/fakes/telegram_files.py).
        self.user_files = UserFiles()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1000))
        self._failures: dict[str, _Failure] = {}
        #: Method name -> what to run after a successful call is handled, before the answer.
        self.before_answer: dict[str, Callable[[], Awaitable[None]]] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeTelegram:
        # Uploads are bigger than aiohttp's 1 MiB default body limit.
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._closing = True  # ends pending long polls, which cleanup would wait for
        self._changed.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what a test does ------------------------------------------------------------------

    def push_message(self, *, chat_id: int, user_id: int, text: str, chat_type: str = "private",
                     first_name: str = "Alice", is_bot: bool = False, username: str = "",
                     reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A user writes `text` (as a reply to `reply_to`); returns the message (a `/command`
        gets its entity)."""
        message = self.user_message(chat_id=chat_id, user_id=user_id, text=text,
                                    chat_type=chat_type, first_name=first_name, is_bot=is_bot,
                                    username=username, reply_to=reply_to)
        self.push_update({"message": message})
        return message

    def user_message(self, *, chat_id: int, user_id: int, text: str, chat_type: str = "private",
                     first_name: str = "Alice", is_bot: bool = False, username: str = "",
                     reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A message from a user, stored as if Telegram had it, not yet pushed."""
        message_id = next(self._message_ids[chat_id])
        sender: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            sender["username"] = username
        message: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()), "text": text,
            "chat": _chat(chat_id, chat_type, first_name), "from": sender,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.messages[(chat_id, message_id)] = message
        return message

    def push_callback(self, *, user_id: int, message: dict[str, Any], data: str,
                      first_name: str = "Alice") -> str:
        """A user presses an inline button with `data` under `message`; returns the query id."""
        query_id = f"cq{next(self._update_ids)}"
        self.push_update({"callback_query": {
            "id": query_id, "chat_instance": "ci", "data": data,
            "message": self._as_it_is_now(message),
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
        }})
        return query_id

    def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for `getUpdates`; returns it with its `update_id`."""
        update = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self._changed.set()
        return update

    def fail_next(self, method: str, *, times: int = 1, status: int = 429,
                  description: str = "", retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` with an error instead."""
        if status == 429 and retry_after is None:
            retry_after = 1
        text = description or f"Too Many Requests: retry after {retry_after}"
        self._failures[method] = _Failure(times, status, text, retry_after)

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """The user deletes a message in the chat."""
        self.messages.pop((chat_id, message_id), None)

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 15.0,
                       **params: Any) -> list[Call]:
        """Wait until `method` was called (successfully or not) `count` times with `params`."""
        deadline = time.monotonic() + within
        while True:
            matching = [c for c in self.calls_of(method)
                        if all(c.params.get(k) == v for k, v in params.items())]
            if len(matching) >= count:
                return matching
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {params} called {len(matching)} times, "
                                     f"wanted {count}; calls: {[c.method for c in self.calls]}")
            await asyncio.sleep(0.02)

    # -- the server ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_body(request)
        self.calls.append(Call(method, params, files, dict(request.headers)))
        failure = self._failures.get(method)
        if failure is not None and failure.times > 0:
            failure.times -= 1
            return error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return error(404, "Not Found: method not found")
        result = await handler(params, files)
        if isinstance(result, web.Response):
            return result
        hook = self.before_answer.get(method)
        if hook is not None:
            await hook()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        return self.user_files.download(request, self.token)

    async def _api_getfile(self, params: dict[str, Any], _files: Any) -> Any:
        return self.user_files.get_file(params)

    async def _api_getme(self, _params: dict[str, Any], _files: Any) -> Any:
        return self.me

    async def _api_setmycommands(self, _params: dict[str, Any], _files: Any) -> Any:
        return True

    async def _api_deletewebhook(self, _params: dict[str, Any], _files: Any) -> Any:
        self.webhook = {}
        return True

    async def _api_setwebhook(self, params: dict[str, Any], _files: Any) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_answercallbackquery(self, _params: dict[str, Any], _files: Any) -> Any:
        return True

    async def _api_getupdates(self, params: dict[str, Any], _files: Any) -> Any:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while not self._updates and not self._closing and time.monotonic() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self._updates[: int(params.get("limit") or 100)]

    async def _api_sendmessage(self, params: dict[str, Any], _files: Any) -> Any:
        refused = asking.refusal(params)
        return refused or self._bot_message(params, text=params["text"])

    async def _api_sendvideo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "video" not in files:
            return error(400, "Bad Request: there is no video in the request")
        video = {"file_id": f"v{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}",
                 "width": params.get("width", 0), "height": params.get("height", 0),
                 "duration": params.get("duration", 0), "mime_type": "video/mp4",
                 "file_size": len(files["video"])}
        return self._bot_message(params, video=video, caption=params.get("caption", ""))

    async def _api_sendphoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        content = media.photo_content(params, files, len(self.calls))
        return content if isinstance(content, web.Response) else self._bot_message(
            params, **content)

    async def _api_editmessagetext(self, params: dict[str, Any], _files: Any) -> Any:
        message = self._message_to_edit(params)
        if isinstance(message, web.Response):
            return message
        if "text" not in message:
            return error(400, "Bad Request: there is no text in the message to edit")
        markup = params.get("reply_markup")
        if message.get("text") == params["text"] and message.get("reply_markup") == markup:
            return not_modified()
        message["text"] = params["text"]
        return edited(message, markup)

    async def _api_editmessagecaption(self, params: dict[str, Any], _files: Any) -> Any:
        message = self._message_to_edit(params)
        if isinstance(message, web.Response):
            return message
        return media.edit_caption(message, params)

    async def _api_editmessagemedia(self, params: dict[str, Any],
                                    files: dict[str, bytes]) -> Any:
        message = self._message_to_edit(params)
        if isinstance(message, web.Response):
            return message
        return media.edit_media(message, params, files, serial=len(self.calls),
                                adds_media_to_text=self.adds_media_to_text)

    def _message_to_edit(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            return error(400, "Bad Request: message to edit not found")
        return message

    async def _api_deletemessage(self, params: dict[str, Any], _files: Any) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self.messages.pop(key, None) is None:
            return error(400, "Bad Request: message to delete not found")
        return True

    def _bot_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids[chat_id])
        message: dict[str, Any] = {
            "message_id": message_id, "date": int(time.time()),
            "chat": _chat(chat_id, "private" if chat_id > 0 else "group", "Chat"),
            "from": {k: self.me[k] for k in ("id", "is_bot", "first_name", "username")},
            **content,
        }
        message.update(asking.message_fields(params))
        replied = self._replied_to(chat_id, params.get("reply_parameters"))
        if replied is not None:
            message["reply_to_message"] = replied
        self.messages[(chat_id, message_id)] = message
        return message

    def _replied_to(self, chat_id: int, reply: Any) -> dict[str, Any] | None:
        """The message a new one replies to, nested as Telegram nests it: without its own
        `reply_to_message`; None when there is none (or it was deleted)."""
        if not isinstance(reply, dict) or "message_id" not in reply:
            return None
        original = self.messages.get((int(reply.get("chat_id", chat_id)),
                                      int(reply["message_id"])))
        if original is None:
            return None
        return {key: value for key, value in original.items() if key != "reply_to_message"}

    def _as_it_is_now(self, message: dict[str, Any]) -> dict[str, Any]:
        """`message` as an update carries it now: the message it replies to is left out once
        that one is deleted, as Telegram does."""
        replied = message.get("reply_to_message")
        if replied is None or (replied["chat"]["id"], replied["message_id"]) in self.messages:
            return message
        return {key: value for key, value in message.items() if key != "reply_to_message"}


def message_update(message: dict[str, Any], update_id: int = 1) -> dict[str, Any]:
    """An update carrying `message`, as Telegram posts it to a webhook."""
    return {"update_id": update_id, "message": message}


def _chat(chat_id: int, chat_type: str, name: str) -> dict[str, Any]:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": name}
    return {"id": chat_id, "type": chat_type, "title": "A group"}


async def _read_body(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Form or multipart fields: JSON-looking values decoded, file parts read."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, FileField):
            files[name] = value.file.read()
        elif isinstance(value, str):
            params[name] = value if name in _TEXT_PARAMS else _maybe_json(value)
        else:
            files[name] = bytes(value)
    return params, files


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
