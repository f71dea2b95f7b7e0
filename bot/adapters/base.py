"""What `videobot run` needs from a front door, and the delivery loop from a chat adapter."""

from __future__ import annotations

from typing import Protocol

from storage.records import JobRecord


class AdapterStartError(Exception):
    """A chat adapter could not start; the message says why and what to do, in one line,
    with no secret in it."""


class FrontDoor(Protocol):
    """A way commands come into the bot (a chat adapter, a web server), started and stopped
    by `videobot run`."""

    async def start(self) -> None:
        """Begin taking commands; return once running."""
        ...

    async def stop(self) -> None:
        """Stop taking commands and let go of what `start` took."""
        ...


class ChatAdapter(FrontDoor, Protocol):
    """One chat platform. The core answers commands; the adapter shows progress and delivers."""

    platform: str

    async def start(self) -> None:
        """Connect to the platform and begin taking commands; return once running."""
        ...

    async def stop(self) -> None:
        """Stop taking commands and disconnect."""
        ...

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Update the user's view of a waiting or rendering job (the adapter throttles)."""
        ...

    async def deliver(self, job: JobRecord) -> None:
        """Post a finished job's clip, or its failure or cancellation notice. Raising leaves
        the job undelivered, to be tried again."""
        ...
