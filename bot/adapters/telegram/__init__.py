"""The Telegram adapter: python-telegram-bot in front of the platform-neutral core.

A thin translation. Messages become `Core.handle` calls (in a private chat, plain text is a
prompt); the acknowledgement is the job's *status message*, edited as the job moves (at most
once per `progress_interval_seconds` per chat, obeying `RetryAfter`) and removed when the clip
arrives with `sendVideo`. Buttons call `Core.cancel_job` and `Core.rerun`, which check that
the presser owns the job or is an admin.

The modules: `adapter` (lifecycle), `commands` (messages and buttons, routed to the core),
`webhook` (the webhook server), `status` (status messages and progress), `delivery` (the clip
or the final word), `api` (Bot API calls and retries), `aiohttp_request` (the HTTP client).

Decisions worth knowing:
- A clip is posted once: the id of the posted video is remembered in memory and in the bot's
  journal on disk (`bot.posted`: a local append, no database lock to wait for) the moment
  Telegram answers, and reaches the job's `reply_target` with the delivery; a retried or
  restarted delivery skips the upload. The one gap is a `sendVideo` that reached Telegram but
  whose answer did not reach the journal (a timeout, or the bot killed in those milliseconds):
  the Bot API has no idempotency key, so the retry posts again (and logs that it may). A
  generous read timeout for uploads keeps that rare.
- The bot token never reaches the logs: a filter on the root logger's handlers redacts it
  (a request URL contains the token).
- Updates are handled concurrently, each chat's in order (`_ChatOrder`), and the Bot API is
  called through aiohttp (`aiohttp_request`), a third of httpx's CPU per call: a burst of
  commands is acknowledged at the pace of the database, not of the HTTP client.
"""

from bot.adapters.telegram.adapter import TelegramAdapter, TelegramStartError, upload_limit_bytes

__all__ = ["TelegramAdapter", "TelegramStartError", "upload_limit_bytes"]
