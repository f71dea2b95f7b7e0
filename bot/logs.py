"""Logging set-up shared by every videobot process."""

from __future__ import annotations

import logging
import sys

from videobot.config import Config

FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


def setup_logging(config: Config, file_stem: str | None, *, quiet_stderr: bool = False) -> None:
    """Log at the configured level to stderr and, when `file_stem` is given, to
    `<data_dir>/logs/<file_stem>.log`. `quiet_stderr` keeps stderr to warnings and errors (the
    console chat owns the terminal)."""
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
    logging.captureWarnings(True)
    for noisy in ("aiosqlite", "asyncio", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class SecretRedactor(logging.Filter):
    """Replaces a secret (a bot token) in log records: message, arguments and traceback.
    HTTP client libraries log request URLs, and bot APIs put the token in the URL."""

    def __init__(self, secret: str, mask: str = "<token>") -> None:
        super().__init__()
        self.secret = secret
        self.mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, self.mask), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, self.mask)
        return True

    def install(self) -> None:
        """Filter every handler of the root logger."""
        for handler in logging.getLogger().handlers:
            handler.addFilter(self)

    def remove(self) -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self)
