"""How a command line of videobot ends (the bot's `videobot` and the generator's `python -m
generator`): a refusal is one line naming the reason, with no control character and no secret
of the config in it, and exit status 2; a failure nobody foresaw is one fixed line here and
its traceback in the data folder's log, and exit status 1."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from videobot.config import Config, ConfigError, load_config
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


def run_command(command: str, handler: Callable[[Config], int], *, config_path: Path | None,
                data_dir: Path | None, refusals: tuple[type[BaseException], ...],
                unavailable: tuple[type[BaseException], ...]) -> int:
    """Load the config and run `handler` with it, ending as every videobot command line ends:
    `refusals` (and a bad config) are one line and status 2; `unavailable` (a database away)
    the same line with its traceback logged; Ctrl-C 130; anything else the fixed line and
    status 1 (raised as is while no config names the log)."""
    refused: tuple[type[BaseException], ...] = (ConfigError, *refusals)
    config: Config | None = None
    try:
        config = load_config(config_path, data_dir=data_dir)
        return int(handler(config))
    except refused as exc:
        return refuse(str(exc), config)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except unavailable as exc:
        assert config is not None
        return refuse_and_log(config, command, exc)
    except Exception as exc:
        if config is None:
            raise
        return fail(config, command, exc)
