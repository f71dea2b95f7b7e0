"""What the job store refuses. Each error carries the data of the refusal and no sentence
for a user: the bot words them (`bot.core.replies.store_refusal`), the API and the chats
alike. `str()` of one is a short description for logs."""

from __future__ import annotations

from storage.quotas import QuotaState


class StoreError(Exception):
    """The job store refused the operation."""

    def __init__(self, **data: object) -> None:
        super().__init__(*data.values())
        self._data = data

    def __str__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._data.items())
        return f"{type(self).__name__}({fields})"


class LeaseLost(StoreError):
    """This worker no longer holds the job: its lease expired and another attempt took over.
    Never shown to a user: the worker drops its work."""

    def __init__(self, job_id: int | None = None, attempt: int | None = None) -> None:
        super().__init__(job_id=job_id, attempt=attempt)
        self.job_id, self.attempt = job_id, attempt


class JobNotFound(StoreError):
    """There is no such job (or it was deleted)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id=job_id)
        self.job_id = job_id


class NotJobOwner(StoreError):
    """That job belongs to someone else."""

    def __init__(self, job_id: int) -> None:
        super().__init__(job_id=job_id)
        self.job_id = job_id


class JobAlreadyFinished(StoreError):
    """That job has already finished; `status` is how."""

    def __init__(self, job_id: int, status: str) -> None:
        super().__init__(job_id=job_id, status=status)
        self.job_id, self.status = job_id, status


class TooManyQueued(StoreError):
    """The user already has `limit` jobs waiting or rendering."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)
        self.limit = limit


class UserBanned(StoreError):
    """An admin has banned the user; `reason` is the admin's ("" for none)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason=reason)
        self.reason = reason


class OutOfCredits(StoreError):
    """A job costing `cost` credits is more than the user has left (`state`: their
    allowance, spending and when credits come back)."""

    def __init__(self, cost: float, state: QuotaState) -> None:
        super().__init__(cost=cost, state=state)
        self.cost, self.state = cost, state


class QueueFull(StoreError):
    """`limit` jobs are waiting, the most the queue takes."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)
        self.limit = limit


class TooSoon(StoreError):
    """The user may submit once every `interval` seconds; `wait` seconds are left."""

    def __init__(self, interval: float, wait: float) -> None:
        super().__init__(interval=interval, wait=wait)
        self.interval, self.wait = interval, wait


class UnknownUser(StoreError):
    """Nobody by `name` has used this bot."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.name = name


class ApiKeyNotFound(StoreError):
    """There is no API key `key_id`."""

    def __init__(self, key_id: int) -> None:
        super().__init__(key_id=key_id)
        self.key_id = key_id
