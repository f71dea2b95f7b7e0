"""A small Discord for tests: REST under `/api/v10` and a JSON websocket gateway, on 127.0.0.1.

The real discord.py client talks to it through `Route.BASE` and `DEFAULT_GATEWAY`. It records
every REST request, lets a test dispatch slash commands (type 2), button presses (type 3) and
the submission of a modal the bot opened (type 5; tests/fakes/discord_modals.py),
injects errors (a 429 with `Via` and `retry_after`, or any 4xx) on chosen routes, and holds
the answer to chosen requests (the message created, the answer not yet sent: the window a
crash can fall in). Creating a channel message honours `nonce` with `enforce_nonce` as Discord
does: the same nonce from the same author within a few minutes returns the message already
created instead of a new one. Editing a message (PATCH, JSON or multipart with `payload_json`
and `files[n]`) treats `attachments` as Discord's API v10 does: the list is what the message
holds afterwards, existing attachments named by their id and new ones by the index of their
`files[n]` part; an attachment left out is removed, and an edit without the key keeps them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes import LISTEN_BACKLOG
from tests.fakes import discord_modals as modals
from tests.fakes.discord_files import Attachments, FakeAttachment, attachment_option
from tests.fakes.discord_messages import message_command_data, user_message

TOKEN = "fake.bot-token.0123456789"
APP_ID = 700000000000000001
BOT_ID = 700000000000000002
GUILD_ID = 710000000000000001
CHANNEL_ID = 720000000000000001
ADMIN_ROLE_ID = 730000000000000001
DEFAULT_LIMIT = 10 * 1024 * 1024
DISCORD_EPOCH_MS = 1420070400000
#: Discord checks a nonce's uniqueness "in the past few minutes".
NONCE_WINDOW_S = 300.0

#: Interaction callback types: a message answering it, and "thinking" (answered later).
ANSWERED, DEFERRED = 4, 5


@dataclass
class Recorded:
    """One REST request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: dict[str, tuple[str, bytes]]
    at: float


@dataclass
class FakeUser:
    """A Discord user who types commands and presses buttons."""

    id: int
    name: str
    roles: tuple[int, ...] = ()

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "username": self.name, "discriminator": "0",
                "avatar": None, "global_name": self.name}


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float


@dataclass
class Hold:
    """Requests whose answers wait for `release()`; `reached` is set once one is waiting."""

    method: str
    pattern: re.Pattern[str]
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class _Interaction:
    id: str
    token: str
    sent_at: float
    message_id: int | None = None
    pressed_message_id: int | None = None


@dataclass
class FakeDiscord:
    """Start with `await fake.start()`; `api_base_url` and `gateway_url` then point at it."""

    token: str = TOKEN
    requests: list[Recorded] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[str, _Interaction] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._holds: list[Hold] = []
        #: (author id, nonce) -> (message id, when): what `enforce_nonce` checks against.
        self._nonces: dict[tuple[str, str], tuple[int, float]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Event()
        #: Set once a client has identified on the gateway (it is ready for interactions).
        self.identified = asyncio.Event()
        #: Files users attach to commands (tests/fakes/discord_files.py).
        self.attachments = Attachments()
        #: The modals the bot opened (callback type 9), by the interaction they answered.
        self.modals: dict[str, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{id:\\d+}/{filename}", self._serve_attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- what a test does -------------------------------------------------------------------

    def fail(self, method: str, path_pattern: str, status: int, *, times: int = 1,
             retry_after: float = 0.05) -> None:
        """Answer the next `times` matching requests with `status` (429: rate limited)."""
        self._failures.append(
            _Failure(method, re.compile(path_pattern), status, times, retry_after))

    def hold(self, method: str, path_pattern: str) -> Hold:
        """Hold the answers to matching requests (handled, not answered) until released."""
        hold = Hold(method, re.compile(path_pattern))
        self._holds.append(hold)
        return hold

    def posted_files(self) -> list[dict[str, Any]]:
        """The messages that carry an attachment, in the order they were created."""
        return [message for message in self.messages.values() if message["attachments"]]

    async def command(self, user: FakeUser, name: str, options: dict[str, Any] | None = None,
                      *, subcommand: str | None = None, dm: bool = False,
                      attachment_size_limit: int = DEFAULT_LIMIT) -> str:
        """Dispatch a slash command; returns the interaction id."""
        typed = [_option(key, value) for key, value in (options or {}).items()]
        if subcommand is not None:
            typed = [{"name": subcommand, "type": 1, "options": typed}]
        data: dict[str, Any] = {"id": str(self._snowflake()), "name": name, "type": 1,
                                "options": typed}
        picked = [value for value in (options or {}).values() if isinstance(value, FakeUser)]
        if picked:
            # A user option carries the id; the user itself comes in `resolved`.
            data["resolved"] = {"users": {str(u.id): u.payload() for u in picked}}
        self._resolve_attachments(data, options or {})
        if not dm:
            data["guild_id"] = str(GUILD_ID)
        return await self._interact(user, 2, data, dm, attachment_size_limit)

    async def message_command(self, user: FakeUser, name: str, message: dict[str, Any], *,
                              dm: bool = False) -> str:
        """Use message command `name` (a message's Apps menu) on `message`; returns the
        interaction id (tests/fakes/discord_messages.py)."""
        data = message_command_data(name, self._snowflake(), message,
                                    None if dm else GUILD_ID)
        return await self._interact(user, 2, data, dm, DEFAULT_LIMIT)

    def post(self, user: FakeUser, content: str = "",
             attachments: tuple[FakeAttachment, ...] = ()) -> dict[str, Any]:
        """`user` posts `content` with `attachments` in the channel; returns the message."""
        cdn = f"http://127.0.0.1:{self.port}"
        message = user_message(self._snowflake(), CHANNEL_ID, user.payload(), content,
                               [self.attachments.resolved(a, cdn) for a in attachments])
        self.messages[int(message["id"])] = message
        return message

    def attach(self, data: bytes, filename: str, content_type: str) -> FakeAttachment:
        """A file a user attaches to a command: pass it as the value of its option."""
        return self.attachments.add(data, filename, content_type)

    def _resolve_attachments(self, data: dict[str, Any], options: dict[str, Any]) -> None:
        """An attachment option carries the id; the attachment comes in `resolved`."""
        attached = [value for value in options.values() if isinstance(value, FakeAttachment)]
        if attached:
            data.setdefault("resolved", {})["attachments"] = {
                str(a.id): self.attachments.resolved(a, f"http://127.0.0.1:{self.port}")
                for a in attached}

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        return self.attachments.download(request)

    async def press(self, user: FakeUser, custom_id: str, message_id: int,
                    *, attachment_size_limit: int = DEFAULT_LIMIT) -> str:
        """Press a button on a message; returns the interaction id."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(user, 3, data, False, attachment_size_limit,
                                    message=self.messages[message_id])

    async def submit_modal(self, user: FakeUser, opened_by: str, values: dict[str, str]) -> str:
        """Submit the modal the bot opened in answer to interaction `opened_by`, its text
        inputs filled with `values` (by custom id); returns the new interaction's id."""
        modal, opener = self.modals[opened_by], self.interactions[opened_by]
        pressed = opener.pressed_message_id
        return await self._interact(
            user, 5, modals.submission(modal, values), False, DEFAULT_LIMIT,
            message=self.messages.get(pressed) if pressed is not None else None)

    async def changed(self, seconds: float) -> None:
        """Wait until the next request arrives (or `seconds` pass)."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            pass

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        """The recorded requests whose method matches and whose path matches `pattern`."""
        regex = re.compile(pattern)
        return [r for r in self.requests if r.method == method and regex.search(r.path)]

    def callback(self, interaction_id: str) -> Recorded | None:
        found = self.sent("POST", rf"^/interactions/{interaction_id}/[^/]+/callback$")
        return found[0] if found else None

    def answer(self, interaction_id: str) -> Recorded | None:
        """The interaction's answer: its callback or, when that deferred it (type 5, "thinking":
        the bot was slow, e.g. on a loaded machine), what the bot sent after it (the original
        response's edit, or the follow-up that replaced it), in a callback's shape (type 4)."""
        callback = self.callback(interaction_id)
        if callback is None or callback.body.get("type") != DEFERRED:
            return callback
        token = re.escape(callback.path.split("/")[3])
        later = [request for request in self.requests if request.at >= callback.at and (
            (request.method == "PATCH"
             and re.fullmatch(rf"/webhooks/\d+/{token}/messages/@original", request.path))
            or (request.method == "POST"
                and re.fullmatch(rf"/webhooks/\d+/{token}", request.path)))]
        if not later:
            return None
        return replace(later[-1], body={"type": ANSWERED, "data": later[-1].body})

    # -- the gateway ------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    break
                await self._on_gateway_message(socket, json.loads(message.data))
        finally:
            self._sockets.remove(socket)
        return socket

    async def _on_gateway_message(self, socket: web.WebSocketResponse,
                                  payload: dict[str, Any]) -> None:
        if payload["op"] == 1:
            await socket.send_str(json.dumps({"op": 11}))
        elif payload["op"] == 2:
            self.identified.set()
            ready = {"v": 10, "user": self._bot(), "guilds": [_guild()], "session_id": "s1",
                     "resume_gateway_url": self.gateway_url,
                     "application": {"id": str(APP_ID), "flags": 0}}
            await self._send_event(socket, "READY", ready)

    async def _send_event(self, socket: web.WebSocketResponse, name: str,
                          data: dict[str, Any]) -> None:
        await socket.send_str(json.dumps({"op": 0, "t": name, "s": next(self._seq), "d": data}))

    async def _interact(self, user: FakeUser, kind: int, data: dict[str, Any], dm: bool,
                        limit: int, message: dict[str, Any] | None = None) -> str:
        interaction_id = str(self._snowflake())
        token = f"itoken-{interaction_id}"
        payload: dict[str, Any] = {
            "id": interaction_id, "application_id": str(APP_ID), "type": kind, "token": token,
            "version": 1, "attachment_size_limit": limit, "data": data, "locale": "en-US",
            "app_permissions": "0", "entitlements": [], "channel_id": str(CHANNEL_ID),
        }
        if dm:
            payload["channel"] = {"id": str(CHANNEL_ID), "type": 1,
                                  "recipients": [user.payload()]}
            payload["user"] = user.payload()
        else:
            payload["guild_id"] = str(GUILD_ID)
            payload["channel"] = {"id": str(CHANNEL_ID), "type": 0, "name": "videos",
                                  "guild_id": str(GUILD_ID), "position": 0, "nsfw": False}
            payload["member"] = {"user": user.payload(), "roles": [str(r) for r in user.roles],
                                 "flags": 0, "permissions": "0", "deaf": False, "mute": False,
                                 "joined_at": "2025-01-01T00:00:00+00:00"}
        if message is not None:
            payload["message"] = message
        self.interactions[interaction_id] = _Interaction(
            interaction_id, token, time.monotonic(),
            pressed_message_id=int(message["id"]) if message is not None else None)
        if not self._sockets:
            raise RuntimeError("no client is connected to the fake gateway")
        await self._send_event(self._sockets[0], "INTERACTION_CREATE", payload)
        return interaction_id

    # -- REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await _read_body(request)
        self.requests.append(Recorded(request.method, path, dict(request.query), body, files,
                                      time.monotonic()))
        self._changed.set()
        failure = self._take_failure(request.method, path)
        if failure is not None:
            return _failure_response(failure)
        if not path.startswith(("/webhooks/", "/interactions/")) and (
                request.headers.get("Authorization") != f"Bot {self.token}"):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        response = self._route(request.method, path, body, files)
        for hold in self._holds:
            if hold.method == request.method and hold.pattern.search(path):
                hold.reached.set()
                await hold.released.wait()
        return response

    def _route(self, method: str, path: str, body: Any,
               files: dict[str, tuple[str, bytes]]) -> web.Response:
        if method == "GET" and path == "/users/@me":
            return _json(self._bot())
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._application())
        if method == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", path):
            # Discord answers a message command's (type 3) missing description with "".
            return _json([{"description": "", **command, "id": str(self._snowflake()),
                           "application_id": str(APP_ID), "version": "1"} for command in body])
        if method == "POST" and (match := re.fullmatch(r"/interactions/(\d+)/[^/]+/callback",
                                                       path)):
            return self._callback(match.group(1), body, files)
        if match := re.fullmatch(r"/webhooks/\d+/([^/]+)/messages/([^/]+)", path):
            return self._webhook_message(method, match.group(1), match.group(2), body, files)
        if method == "POST" and re.fullmatch(r"/webhooks/\d+/[^/]+", path):
            return _json(self._new_message(body, files))
        if method == "POST" and re.fullmatch(r"/channels/\d+/messages", path):
            return _json(self._channel_message(body, files))
        if method == "DELETE" and (match := re.fullmatch(r"/channels/\d+/messages/(\d+)", path)):
            self.messages.pop(int(match.group(1)), None)
            return web.Response(status=204)
        return _json({"message": f"404: Not Found ({method} {path})", "code": 0}, 404)

    def _callback(self, interaction_id: str, body: Any,
                  files: dict[str, tuple[str, bytes]]) -> web.Response:
        interaction = self.interactions[interaction_id]
        kind = body["type"]
        answer: dict[str, Any] = {"interaction": {"id": interaction_id, "type": 2}}
        if kind == 9:
            return self._open_modal(interaction_id, body.get("data") or {}, answer)
        if kind in (4, 5):
            message = self._new_message(body.get("data") or {}, files)
            interaction.message_id = int(message["id"])
            flags = (body.get("data") or {}).get("flags", 0)
            answer["interaction"].update(response_message_id=message["id"],
                                         response_message_loading=kind == 5,
                                         response_message_ephemeral=bool(flags & 64))
            answer["resource"] = {"type": kind, "message": message}
        return _json(answer)

    def _open_modal(self, interaction_id: str, data: dict[str, Any],
                    answer: dict[str, Any]) -> web.Response:
        problem = modals.modal_problem(data)
        if problem is not None:
            return _json({"message": f"Invalid Form Body ({problem})", "code": 50035}, 400)
        self.modals[interaction_id] = data
        return _json(answer)

    def _webhook_message(self, method: str, token: str, message_ref: str, body: Any,
                         files: dict[str, tuple[str, bytes]]) -> web.Response:
        message_id = self._original(token) if message_ref == "@original" else int(message_ref)
        message = self.messages.get(message_id) if message_id is not None else None
        if message is None:
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if method == "DELETE":
            del self.messages[int(message["id"])]
            return web.Response(status=204)
        body = body or {}
        if "attachments" in body:
            attachments = self._attachments_after_edit(message, body["attachments"], files)
            if attachments is None:
                return _json({"message": "Invalid Form Body", "code": 50035}, 400)
            message["attachments"] = attachments
        for key in ("content", "components", "embeds"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = "2026-01-01T00:00:01+00:00"
        return _json(message)

    def _attachments_after_edit(self, message: dict[str, Any], listed: list[dict[str, Any]],
                                files: dict[str, tuple[str, bytes]]) -> list[dict[str, Any]] | None:
        """The message's attachments after an edit listing `listed`; None when one names
        neither an attachment of the message nor an uploaded part."""
        kept = {attachment["id"]: attachment for attachment in message["attachments"]}
        after = []
        for entry in listed:
            reference = str(entry.get("id"))
            if reference in kept:
                after.append(kept[reference])
            elif f"files[{reference}]" in files:
                name, data = files[f"files[{reference}]"]
                after.append(self._attachment(entry.get("filename") or name, data))
            else:
                return None
        return after

    def _original(self, token: str) -> int | None:
        for interaction in self.interactions.values():
            if interaction.token == token:
                return interaction.message_id or interaction.pressed_message_id
        return None

    def _channel_message(self, body: dict[str, Any],
                         files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
        """A bot's channel message; with `enforce_nonce`, the one its nonce already made."""
        nonce = body.get("nonce")
        key = (str(BOT_ID), str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get(key)
            if earlier is not None and time.monotonic() - earlier[1] < NONCE_WINDOW_S \
                    and earlier[0] in self.messages:
                return self.messages[earlier[0]]
        message = self._new_message(body, files)
        if nonce is not None:
            message["nonce"] = nonce
            self._nonces[key] = (int(message["id"]), time.monotonic())
        return message

    def _new_message(self, body: dict[str, Any],
                     files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
        message_id = self._snowflake()
        attachments = [self._attachment(name, data) for name, data in files.values()]
        message = {
            "id": str(message_id), "channel_id": str(CHANNEL_ID), "type": 0,
            "content": body.get("content") or "", "author": {**self._bot(), "bot": True},
            "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": attachments, "embeds": body.get("embeds") or [], "pinned": False,
            "flags": body.get("flags", 0), "components": body.get("components") or [],
        }
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        self.messages[message_id] = message
        return message

    def _attachment(self, name: str, data: bytes) -> dict[str, Any]:
        attachment_id = str(self._snowflake())
        url = f"{self.api_base_url}/files/{attachment_id}/{name}"
        return {"id": attachment_id, "filename": name, "size": len(data), "url": url,
                "proxy_url": url}

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.pattern.search(path):
                failure.times -= 1
                return failure
        return None

    def _snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) % 4096)

    def _bot(self) -> dict[str, Any]:
        return {"id": str(BOT_ID), "username": "videobot", "discriminator": "0",
                "avatar": None, "bot": True, "flags": 0}

    def _application(self) -> dict[str, Any]:
        return {"id": str(APP_ID), "name": "videobot", "description": "", "icon": None,
                "bot_public": True, "bot_require_code_grant": False, "verify_key": "00",
                "owner": {"id": "1", "username": "owner", "discriminator": "0",
                          "avatar": None}, "flags": 0}


def _option(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, FakeAttachment):
        return attachment_option(name, value)
    if isinstance(value, FakeUser):
        return {"name": name, "type": 6, "value": str(value.id)}
    kind = 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3
    return {"name": name, "type": kind, "value": value}


def _guild() -> dict[str, Any]:
    everyone = {"id": str(GUILD_ID), "name": "@everyone", "permissions": "0", "position": 0,
                "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
    admins = {**everyone, "id": str(ADMIN_ROLE_ID), "name": "video admins", "position": 1}
    return {"id": str(GUILD_ID), "name": "test guild", "roles": [everyone, admins],
            "channels": [], "members": [], "member_count": 3, "features": [], "emojis": [],
            "stickers": [], "owner_id": "1", "unavailable": False}


async def _read_body(request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type.startswith("multipart/"):
        body: Any = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.name == "payload_json":  # type: ignore[union-attr]
                body = json.loads(await part.text())  # type: ignore[union-attr]
            else:
                data = await part.read()  # type: ignore[union-attr]
                files[part.name or ""] = (part.filename or "", bytes(data))  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), files


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py wants exactly `application/json`; `web.json_response` adds a charset.
    response = web.Response(status=status, body=json.dumps(data).encode(), headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def _failure_response(failure: _Failure) -> web.Response:
    if failure.status == 429:
        body = {"message": "You are being rate limited.", "retry_after": failure.retry_after,
                "global": False}
        return _json(body, 429, {"Via": "1.1 google", "X-RateLimit-Scope": "user"})
    return _json({"message": f"injected {failure.status}", "code": 0}, failure.status)
