"""Credits: what a user may spend per window, what they spent, and the charge and refund
that the store writes in the same transactions as the job's own changes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import Label

from storage.models import Charge, QuotaOverride, Setting, User
from storage.settings import DEFAULT_CREDITS
from videobot.config import QuotasConfig
from videobot.tiers import allowance

_CHARGE = insert(Charge)


@dataclass(frozen=True)
class QuotaState:
    """A user's allowance now: how much, how much is spent, and when credits come back."""

    credits: float
    used: float
    window_hours: float
    daily_reset: bool
    next_credit_at: datetime | None

    @property
    def left(self) -> float:
        return _left(self.credits, self.used)


@dataclass(frozen=True)
class Balance:
    """What a submission needs to know of a user's credits: the allowance and what is spent."""

    credits: float
    used: float

    @property
    def left(self) -> float:
        return _left(self.credits, self.used)

    def after(self, cost: float) -> Balance:
        """The balance once `cost` is charged."""
        return Balance(self.credits, round(self.used + cost, 2))


def balance_columns(user_id: Any, since: Any) -> tuple[Label[Any], ...]:
    """A user's own allowance, the admins' default and the credits spent since `since`, as
    columns to select along with a submission's other checks (one statement for all);
    `balance` reads them back."""
    return (
        select(QuotaOverride.credits).where(QuotaOverride.user_id == user_id)
        .scalar_subquery().label("own_credits"),
        select(QuotaOverride.window_hours).where(QuotaOverride.user_id == user_id)
        .scalar_subquery().label("own_window_hours"),
        select(Setting.value).where(Setting.key == DEFAULT_CREDITS)
        .scalar_subquery().label("default_credits"),
        select(User.tier).where(User.id == user_id).scalar_subquery().label("tier"),
        _spent(user_id, since).scalar_subquery().label("spent"),
    )


def _spent(user_id: Any, since: Any) -> Select[Any]:
    """The credits a user spent since `since` (refunded charges do not count)."""
    return (select(func.coalesce(func.sum(Charge.credits), 0.0))
            .where(Charge.user_id == user_id, Charge.charged_at >= since,
                   Charge.refunded_at.is_(None)))


def balance(conn: Connection, row: Row[Any], *, user_id: int, quotas: QuotasConfig,
            now: datetime) -> Balance:
    """The balance from a row of `balance_columns` selected with `since` the start of the
    configured window; a user with a window of their own costs one more statement."""
    if row.own_credits is not None:
        credits = float(row.own_credits)
    else:
        default = (float(row.default_credits) if row.default_credits is not None
                   else quotas.credits)
        credits = allowance(default, row.tier or "", quotas)
    start = window_start(quotas, row.own_window_hours or quotas.window_hours, now)
    spent = row.spent
    if start != window_start(quotas, quotas.window_hours, now):
        spent = conn.scalar(_spent(user_id, start))
    return Balance(credits, round(float(spent or 0.0), 2))


def quota_state(conn: Connection, user_id: int, quotas: QuotasConfig, now: datetime, *,
                needed: float = 0.0, tier: str | None = None) -> QuotaState:
    """The user's allowance and usage; `next_credit_at` is when `needed` credits (or, with 0,
    the next credit) will be free again, None when nothing is spent. `tier`: the tier to
    count the allowance in (None: the one recorded with the user). (Synchronous, like the
    submission that calls it; async code runs it with `run_sync`.)"""
    credits, window_hours = _allowance(conn, user_id, quotas, tier)
    start = window_start(quotas, window_hours, now)
    charges = (conn.execute(
        select(Charge.credits, Charge.charged_at)
        .where(Charge.user_id == user_id, Charge.charged_at >= start,
               Charge.refunded_at.is_(None))
        .order_by(Charge.charged_at)
    )).all()
    used = round(sum(row.credits for row in charges), 2)
    if not charges:
        return QuotaState(credits, used, window_hours, quotas.daily_reset, None)
    if quotas.daily_reset:
        comes_back = start + timedelta(days=1)
    else:
        comes_back = _rolling_release(charges, credits - used, needed, window_hours)
    return QuotaState(credits, used, window_hours, quotas.daily_reset, comes_back)


def window_start(quotas: QuotasConfig, window_hours: float, now: datetime) -> datetime:
    """The oldest charge that still counts: a rolling window, or the last daily reset."""
    if not quotas.daily_reset:
        return now - timedelta(hours=window_hours)
    reset = now.replace(hour=quotas.reset_hour_utc, minute=0, second=0, microsecond=0)
    return reset if reset <= now else reset - timedelta(days=1)


def charge(conn: Connection, *, job_id: int, user_id: int, credits: float,
           now: datetime) -> None:
    conn.execute(_CHARGE, {"job_id": job_id, "user_id": user_id, "credits": credits,
                           "charged_at": now, "refunded_at": None})


async def refund(conn: AsyncConnection, job_ids: Collection[int], now: datetime) -> None:
    """Give back what these jobs cost (once: a refunded charge stays refunded)."""
    if job_ids:
        await conn.execute(
            update(Charge)
            .where(Charge.job_id.in_(list(job_ids)), Charge.refunded_at.is_(None))
            .values(refunded_at=now)
        )


async def spent_since(conn: AsyncConnection, since: datetime) -> float:
    """Credits charged and not refunded since `since`, all users."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(Charge.credits), 0.0))
        .where(Charge.charged_at >= since, Charge.refunded_at.is_(None))
    )
    return round(float(total or 0.0), 2)


def _allowance(conn: Connection, user_id: int, quotas: QuotasConfig,
               tier: str | None = None) -> tuple[float, float]:
    row = (conn.execute(
        select(QuotaOverride.credits, QuotaOverride.window_hours)
        .where(QuotaOverride.user_id == user_id)
    )).first()
    if row is not None:
        return row.credits, row.window_hours or quotas.window_hours
    if tier is None:
        tier = conn.scalar(select(User.tier).where(User.id == user_id))
    return allowance(default_credits(conn, quotas), tier or "", quotas), quotas.window_hours


def default_credits(conn: Connection, quotas: QuotasConfig) -> float:
    """The allowance of users with no override: an admin's `quota default`, else config."""
    default = conn.scalar(select(Setting.value).where(Setting.key == DEFAULT_CREDITS))
    return float(default) if default is not None else quotas.credits


def _rolling_release(charges: Sequence[Any], left: float, needed: float,
                     window_hours: float) -> datetime:
    """When the oldest charges have left the window far enough to free `needed` credits."""
    for credits, charged_at in charges:
        left += credits
        if left >= needed and left > 0:
            return charged_at + timedelta(hours=window_hours)
    return charges[-1][1] + timedelta(hours=window_hours)


def _left(credits: float, used: float) -> float:
    return max(0.0, round(credits - used, 2))
