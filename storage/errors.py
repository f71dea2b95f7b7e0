"""What the job store refuses. Each docstring is the default message."""

from __future__ import annotations


class StoreError(Exception):
    """The job store refused the operation."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class LeaseLost(StoreError):
    """This worker no longer holds the job: its lease expired and another attempt took over."""


class JobNotFound(StoreError):
    """There is no such job."""


class NotJobOwner(StoreError):
    """That job belongs to someone else."""


class JobAlreadyFinished(StoreError):
    """That job has already finished."""


class TooManyQueued(StoreError):
    """Too many of your jobs are waiting."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"you already have {limit} jobs waiting or rendering (limit: {limit} per user); "
            "wait for one to finish or /cancel one"
        )


class UserBanned(StoreError):
    """You may not use this bot."""

    def __init__(self, reason: str = "") -> None:
        super().__init__("an admin has banned you from this bot"
                         + (f" ({reason})" if reason else ""))


class OutOfCredits(StoreError):
    """You have too few credits left for this clip."""


class QueueFull(StoreError):
    """The queue is full."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the queue is full ({limit} jobs waiting, the limit); try again "
                         "when the next job starts")


class TooSoon(StoreError):
    """You are sending requests too quickly."""

    def __init__(self, interval: float, wait: float) -> None:
        self.wait = wait
        super().__init__(f"one request every {interval:g} s at most; try again in "
                         f"{max(1, round(wait))} s")


class UnknownUser(StoreError):
    """Nobody by that name has used this bot."""
