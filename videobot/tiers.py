"""Which quota tier a user is in: the highest-priority tier that names them, or one of the
chats and roles they are in (`[quotas.tiers.NAME]`)."""

from __future__ import annotations

from videobot.config.quotas import QuotasConfig, TierConfig
from videobot.users import UserRef


def tier_of(user: UserRef, quotas: QuotasConfig) -> TierConfig | None:
    matching = [tier for tier in quotas.tiers.values()
                if user.key in tier.users or tier.groups() & user.groups]
    return max(matching, key=lambda tier: (tier.priority, tier.credits), default=None)


def allowance(default: float, tier_name: str, quotas: QuotasConfig) -> float:
    """A user's allowance with no admin override: the default, or their tier's if larger."""
    tier = quotas.tiers.get(tier_name) if tier_name else None
    return max(default, tier.credits) if tier is not None else default
