"""The torch devices a worker may be given, checked by name where torch is not imported (the
config, the command line): a bad name fails at start, not in a worker restarted for ever."""

from __future__ import annotations

import re

_DEVICE = re.compile(r"cpu|mps|cuda(?::\d{1,3})?")
DEVICE_FORMS = "cpu, cuda, cuda:N or mps"


def is_device_name(name: str) -> bool:
    """Whether `name` is `cpu`, `cuda`, `cuda:N` or `mps`."""
    return _DEVICE.fullmatch(name) is not None
