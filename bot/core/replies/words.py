"""The small words every reply shares: credits, counts, moments and sizes."""

from __future__ import annotations

from datetime import datetime, timedelta


def credits(amount: float) -> str:
    return f"{amount:g} credit" + ("" if amount == 1 else "s")


def plural(n: int, noun: str) -> str:  # `1 job`, `2 jobs`
    return f"{n} {noun}{'' if n == 1 else 's'}"


def utc_moment(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def hours(period: timedelta) -> str:
    return f"{period.total_seconds() / 3600:g} h"


def gib(size: int) -> str:
    """Bytes as GiB with one decimal: `12.5`."""
    return f"{size / 1024**3:.1f}"
