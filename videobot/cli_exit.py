"""How a command line of videobot ends (the bot's `videobot` and the generator's `python -m
generator`): a refusal is one line naming the reason, with no control character and no secret
of the config in it, and exit status 2; a failure nobody foresaw is one fixed line here and
its traceback in the data folder's log, and exit status 1."""

from __future__ import annotations

import sys

from videobot.config import Config
from videobot.logs import config_secrets, log_failure, redact
from videobot.text import printable

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
#: The one line for a failure nobody foresaw (its traceback is in the log).
FAILED = "something went wrong on our side"


def refuse(reason: str, config: Config | None) -> int:
    """Print `reason` as the one line of a refusal; the exit status for bad input."""
    secrets = config_secrets(config) if config is not None else ()
    print(f"videobot: {redact(printable(reason), secrets)}", file=sys.stderr)
    return EXIT_USAGE


def refuse_and_log(config: Config, command: str, error: BaseException) -> int:
    """A reason the operator can act on (an unreachable database): one line here, the
    traceback in the log."""
    log_failure(config, command, error)
    return refuse(str(error), config)


def fail(config: Config, command: str, error: BaseException) -> int:
    """The fixed line for an unforeseen failure, pointing at the log holding its traceback."""
    where = log_failure(config, command, error)
    print(f"videobot: {FAILED} " + (f"(details in {where})" if where else ""), file=sys.stderr)
    return EXIT_FAILED
