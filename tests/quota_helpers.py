"""Shared by the quota, fairness, admin and moderation tests: a config with room for many
jobs per user, and a small request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage.db import read_transaction
from storage.models import Charge
from storage.store import Store
from videobot.config import Config, config_from_dict
from videobot.params import RenderRequest
from videobot.users import UserRef


def roomy_config(tmp_path: Path, database_url: str, **sections: Any) -> Config:
    """The test config, with no per-user queue cap in the way, plus `sections`."""
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": "tiny",
                             "database": {"url": database_url},
                             "limits": {"max_queued_per_user": 1000}, **sections})


def request(prompt: str = "a red ball") -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=16, fps=8, width=64,
                         height=64, steps=4, guidance=7.5, seed=1, preset="tiny")


async def submit(store: Store, user: UserRef, cost: float = 1.0) -> int:
    job = await store.submissions.enqueue(user, request(), max_queued_per_user=1000, cost=cost)
    return job.id


async def refunded(store: Store, job_id: int) -> bool:
    """Whether the job's charge row is marked refunded."""
    async with read_transaction(store.engine) as conn:
        at = (await conn.execute(select(Charge.refunded_at).where(Charge.job_id == job_id))).one()
    return at[0] is not None
