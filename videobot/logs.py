"""Logging set-up shared by every videobot process, and the redaction of secrets from it."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlsplit

from videobot.config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
LOG_FILE = "videobot.log"
SECRET_MASK = "<secret>"


def setup_logging(config: Config, file_stem: str | None, *, quiet_stderr: bool = False) -> None:
    """Log at the configured level to stderr and, when `file_stem` is given, to
    `<data_dir>/logs/<file_stem>.log`. `quiet_stderr` keeps stderr to warnings and errors (the
    console chat owns the terminal). Every secret of the config is redacted from every record,
    from here to the process's end (shutdown included)."""
    level = getattr(logging, config.logging.level.upper())
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.WARNING if quiet_stderr else level)
    stderr.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(stderr)
    if file_stem is not None:
        log_dir = config.data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / f"{file_stem}.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    SecretRedactor(*config_secrets(config), mask=SECRET_MASK).install()
    logging.captureWarnings(True)
    for noisy in ("aiosqlite", "asyncio", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def config_secrets(config: Config) -> tuple[str, ...]:
    """The secrets `config` holds: the values of its secret keys (declared `repr=False`: bot
    tokens, the webhook secret, the database URL) and the database URL's password."""
    found = [getattr(section, key.name)
             for section in (config.database, config.telegram, config.discord)
             if section is not None for key in fields(section) if not key.repr]
    password = _password(config.database.url)
    return tuple(secret for secret in (*found, password) if secret)


def redact(text: str, secrets: Iterable[str], mask: str = SECRET_MASK,
           patterns: Sequence[re.Pattern[str]] = ()) -> str:
    """`text` with every secret, and every match of a pattern's `secret` group (secrets that
    come and go, such as interaction tokens), replaced by `mask` (the longest secret first:
    one may contain another)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, mask)
    for pattern in patterns:
        text = pattern.sub(lambda found: found.group(0).replace(found.group("secret"), mask),
                           text)
    return text


def log_failure(config: Config, what: str, error: BaseException) -> Path | None:
    """Write `error`'s traceback, secrets redacted, to the data folder's log (not to stderr:
    the person at the terminal gets one line). Returns the log's path; None when there is no
    data folder to write it in."""
    if not config.data_dir.is_dir():
        return None
    path = config.data_dir / "logs" / LOG_FILE
    path.parent.mkdir(exist_ok=True)
    logger = logging.getLogger("videobot.failure")
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(SecretRedactor(*config_secrets(config), mask=SECRET_MASK))
    logger.addHandler(handler)
    try:
        logger.error("%s failed", what, exc_info=error)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path


def _password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


class SecretRedactor(logging.Filter):
    """Replaces secrets (bot tokens, and matches of `patterns`, see `redact`) in log records:
    message, arguments, traceback and stack. HTTP client libraries log request URLs, and bot
    APIs put the token in the URL."""

    def __init__(self, *secrets: str, mask: str = "<token>",
                 patterns: Sequence[re.Pattern[str]] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)
        self.patterns = tuple(patterns)
        self.mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        if not (self.secrets or self.patterns):
            return True
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        return redact(text, self.secrets, self.mask, self.patterns)

    def install(self) -> None:
        """Filter every handler of the root logger."""
        for handler in logging.getLogger().handlers:
            handler.addFilter(self)

    def remove(self) -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self)
