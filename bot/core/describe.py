"""`/describe`: video to text as a job. The bot queues a describe job for a finished clip
through the same submission path as a clip (fair order, limits, bans, charged
`[quotas] describe_credits`); a worker whose preset can caption claims it, reads the clip and
stores the caption, and the delivery loop posts it like a clip. The bot never starts a model
process."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core import replies
from bot.core.errors import CommandError
from bot.core.serving import ServedPresets
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from storage.submissions import Submitted
from storage.users import Tier
from videobot.captioning import describing_presets
from videobot.config import Config
from videobot.users import UserRef


async def submit_description(store: Store, config: Config, served: ServedPresets,
                             user: UserRef, source: JobRecord, *, reply_target: dict[str, Any],
                             tier: Tier | None) -> Submitted:
    """Queue the describe job of `source`'s clip for `user`; raises `CommandError` (no clip,
    nobody to caption it) or a `StoreError` (a limit) with the reason."""
    if source.describes:
        raise CommandError(replies.describes_a_description(source.id))
    if source.status != JobStatus.SUCCEEDED or source.clip is None:
        raise CommandError(replies.no_clip_to_describe(source.id, source.status))
    preset = await describer(config, served, source.request.preset)
    return await store.submissions.submit(
        user, replace(source.request, preset=preset), reply_target=reply_target,
        describes=source.id, max_queued_per_user=config.limits.max_queued_per_user,
        cost=config.quotas.describe_credits, tier=tier)


async def describer(config: Config, served: ServedPresets, preferred: str) -> str:
    """The preset whose workers caption a clip: `preferred` (the clip's) if it can, else the
    first configured one that can, among those the live workers take (or, while none runs,
    among all configured); `CommandError` when there is none."""
    taken = await served.presets()
    names = [name for name in dict.fromkeys([preferred, *config.presets])
             if taken is None or name in taken]
    describers = describing_presets(config, names)
    if not describers:
        raise CommandError(replies.NO_DESCRIBER)
    return describers[0]
