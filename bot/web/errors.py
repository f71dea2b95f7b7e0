"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with the status
its SDK turns into the matching exception (400 BadRequestError, 401 AuthenticationError, 404
NotFoundError, 429 RateLimitError, ...). The message is the sentence a chat would give.

Every error also says `x-should-retry: false` (the SDK retries 409, 429 and 5xx by itself,
and none of ours would go differently a second later), except a request sent too soon after
the last, which says when to come back (`Retry-After`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core import replies
from bot.core.errors import INTERNAL_ERROR, CommandError, InputTooLarge, PictureRefused
from storage.errors import (
    JobAlreadyFinished,
    JobNotFound,
    NotJobOwner,
    OutOfCredits,
    QueueFull,
    StoreError,
    TooManyQueued,
    TooSoon,
    UserBanned,
)

log = logging.getLogger(__name__)

INVALID = "invalid_request_error"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An answer with an error body: `message` is what the client's user reads."""

    def __init__(self, status: int, message: str, *, type: str = INVALID,
                 code: str | None = None, param: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.retry_after = retry_after

    def response(self) -> web.Response:
        """The error as an answer: OpenAI's body, its status, and whether to retry."""
        body = {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}
        headers = {"x-should-retry": "false"}
        if self.retry_after is not None:
            headers = {"x-should-retry": "true", "Retry-After": f"{self.retry_after:.0f}"}
        return web.json_response(body, status=self.status, headers=headers)


def not_found(video_id: str) -> ApiError:
    """The same answer for another user's video as for none: its existence is not told."""
    return ApiError(404, replies.api_no_video(video_id), code="not_found")


#: Store refusals by class: (status, type, code).
_REFUSALS: dict[type[StoreError], tuple[int, str, str]] = {
    JobNotFound: (404, INVALID, "not_found"),
    NotJobOwner: (404, INVALID, "not_found"),
    JobAlreadyFinished: (409, INVALID, "already_finished"),
    UserBanned: (403, "permission_error", "user_banned"),
    OutOfCredits: (429, "insufficient_quota", "insufficient_quota"),
    TooManyQueued: (429, "requests", "too_many_queued"),
    TooSoon: (429, "requests", "rate_limit_exceeded"),
    QueueFull: (429, "requests", "queue_full"),
}


def from_refusal(exc: CommandError | StoreError, param: str | None = None) -> ApiError:
    """The API's answer to what the core or the store refused, in the chat's words."""
    if isinstance(exc, InputTooLarge):
        return ApiError(413, str(exc), code="file_too_large", param="input_reference")
    if isinstance(exc, PictureRefused):
        return ApiError(400, str(exc), code="invalid_value", param="input_reference")
    if isinstance(exc, CommandError):
        return ApiError(400, str(exc), code="invalid_value", param=param)
    status, kind, code = next((v for k, v in _REFUSALS.items() if isinstance(exc, k)),
                              (400, INVALID, "invalid_value"))
    retry_after = exc.wait if isinstance(exc, TooSoon) else None
    return ApiError(status, replies.store_refusal(exc), type=kind, code=code,
                    retry_after=retry_after)


def openai_errors(max_upload_mb: float) -> Any:
    """A middleware that answers every error of its routes in OpenAI's shape: ours, the
    core's and the store's refusals, aiohttp's own (no such route, body too large), and
    anything unforeseen (logged with its traceback, answered with one fixed sentence)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except (CommandError, StoreError) as exc:
            return from_refusal(exc).response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return _from_http(exc, request, max_upload_mb).response()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return ApiError(500, INTERNAL_ERROR, type="server_error").response()

    return middleware


def _from_http(exc: web.HTTPException, request: web.Request, max_upload_mb: float) -> ApiError:
    if exc.status == 413:
        return ApiError(413, replies.api_too_large(max_upload_mb), code="request_too_large")
    if exc.status in (404, 405):
        return ApiError(exc.status, replies.api_no_route(request.method, request.path),
                        code="unknown_url")
    return ApiError(exc.status, exc.reason)
