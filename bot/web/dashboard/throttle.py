"""Repeated failed sign-ins from one address are slowed down: after a few free tries, each
failure makes the address wait twice as long as the last before its next try is even
checked (up to a cap), and a success forgets the address. Guessing a 256-bit key is hopeless
anyway; this keeps a script from hammering the key look-up."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Failures allowed before any wait.
FREE_FAILURES = 3
FIRST_WAIT_S = 2.0
MAX_WAIT_S = 300.0
#: An address whose last failure is older than this starts afresh.
FORGET_AFTER_S = 900.0
#: Addresses remembered at most (the oldest are forgotten first).
MAX_ADDRESSES = 10_000


@dataclass
class _Record:
    failures: int
    last_failure: float
    next_try: float


class SignInThrottle:
    """Failed sign-ins by client address, in memory (a restart forgets them)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def wait_left(self, address: str) -> float:
        """Seconds before `address` may try again (0: now)."""
        record = self._current(address)
        return max(0.0, record.next_try - self.clock()) if record is not None else 0.0

    def failed(self, address: str) -> float:
        """Count a failure; return how long the address must now wait."""
        now = self.clock()
        record = self._current(address) or _Record(0, now, now)
        record.failures += 1
        record.last_failure = now
        extra = record.failures - FREE_FAILURES
        wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (extra - 1)) if extra > 0 else 0.0
        record.next_try = now + wait
        self._records[address] = record
        self._records.move_to_end(address)
        while len(self._records) > MAX_ADDRESSES:
            self._records.popitem(last=False)
        return wait

    def succeeded(self, address: str) -> None:
        """Forget the address's failures."""
        self._records.pop(address, None)

    def _current(self, address: str) -> _Record | None:
        record = self._records.get(address)
        if record is not None and self.clock() - record.last_failure > FORGET_AFTER_S:
            del self._records[address]
            return None
        return record
