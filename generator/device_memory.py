"""What a worker's heartbeat says of its device's memory: what is in use (by every process on
the device, as `nvidia-smi` counts it) and how much there is, as the driver reports it."""

from __future__ import annotations

import logging

from storage.workers import DeviceMemory

log = logging.getLogger(__name__)


def device_memory(device: str) -> DeviceMemory | None:
    """The memory of a CUDA `device` ("cuda", "cuda:1"); None for the CPU and other devices,
    and when the driver cannot be asked (the heartbeat goes on without it)."""
    if not device.startswith("cuda"):
        return None
    import torch

    try:
        index = torch.device(device).index or 0
        free, total = torch.cuda.mem_get_info(index)
    except (RuntimeError, AssertionError, ValueError):
        # No CUDA build, no driver, or no such device: the worker's own load reports that.
        log.debug("no memory report for %s", device, exc_info=True)
        return None
    return DeviceMemory(used_bytes=int(total - free), total_bytes=int(total))
