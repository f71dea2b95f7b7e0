"""The objects the API answers with: the video (OpenAI's fields, then ours), its id, pages of
them, and the models (presets) a worker serves."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from bot.core import replies
from bot.web.errors import not_found
from storage.models import JobStatus
from storage.records import JobRecord
from videobot.config import Config, PresetConfig, StorageConfig
from videobot.families import family_for_preset

_ID = re.compile(r"^video_([1-9][0-9]{0,17})$")
_STATUS = {JobStatus.QUEUED: "queued", JobStatus.RUNNING: "in_progress",
           JobStatus.SUCCEEDED: "completed", JobStatus.FAILED: "failed",
           JobStatus.CANCELLED: "failed"}


def video_id(job_id: int) -> str:
    """A job's id in the API: `video_12` is job #12 in the chats."""
    return f"video_{job_id}"


def job_id_of(text: str) -> int:
    """The job a video id names; 404 for anything else (paths, other objects' ids)."""
    match = _ID.match(text)
    if match is None:
        raise not_found(text)
    return int(match.group(1))


def video_object(job: JobRecord, position: int | None, config: Config) -> dict[str, Any]:
    """The video object: OpenAI's fields (`seconds` and `size` as delivered), then ours:
    where it waits, the seed and settings that reproduce it, and the notes a chat's
    acknowledgement carries (roundings, ignored words and options)."""
    request = job.request
    preset = config.presets.get(request.preset)
    notes = [*job.notes, *([preset.notice] if preset is not None and preset.notice else [])]
    return {
        "id": video_id(job.id), "object": "video", "model": request.preset,
        "status": _STATUS[job.status], "progress": _progress(job),
        "created_at": _unix(job.created_at),
        "completed_at": _unix(job.finished_at) if job.is_final else None,
        "expires_at": _expires_at(job, config.storage),
        "seconds": f"{_frames(job) / request.fps:g}", "size": f"{request.width}x{request.height}",
        "remixed_from_video_id": video_id(job.remixed_from) if job.remixed_from else None,
        "extended_from_video_id": video_id(job.extends) if job.extends else None,
        "error": _error(job),
        "prompt": request.prompt, "queue_position": position, "seed": request.seed,
        "notes": notes, "negative_prompt": request.negative_prompt, "frames": request.frames,
        "fps": request.fps, "steps": request.steps, "guidance": request.guidance,
    }


def page_object(videos: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """A cursor page as the SDK's paginator reads it (`after=last_id` for the next)."""
    return {"object": "list", "data": videos, "has_more": has_more,
            "first_id": videos[0]["id"] if videos else None,
            "last_id": videos[-1]["id"] if videos else None}


def model_object(preset: PresetConfig, default: bool) -> dict[str, Any]:
    """A preset as a model: OpenAI's fields, then its default clip and its limits."""
    family = family_for_preset(preset)
    return {
        "id": preset.name, "object": "model", "created": 0, "owned_by": "videobot",
        "default": default, "backend": preset.backend, "family": family.name,
        "size": f"{preset.width}x{preset.height}", "seconds": f"{preset.frames / preset.fps:g}",
        "frames": preset.frames, "fps": preset.fps, "steps": preset.steps,
        "max_frames": preset.max_frames, "max_pixels": preset.max_pixels,
        "max_steps": preset.max_steps, "size_multiple": family.size_multiple,
        "notice": preset.notice,
    }


def _frames(job: JobRecord) -> int:
    """The clip's frames: an extension's whole clip once it has one (the original and the
    continuation), else the frames the request renders."""
    if job.extends is not None and job.clip is not None:
        return job.clip.frames
    return job.request.frames


def _progress(job: JobRecord) -> int:
    if job.status == JobStatus.SUCCEEDED:
        return 100
    if job.status == JobStatus.QUEUED or job.progress_total <= 0:
        return 0
    return min(99, 100 * job.progress_step // job.progress_total)


def _error(job: JobRecord) -> dict[str, str] | None:
    if job.status == JobStatus.CANCELLED:
        return {"code": "cancelled", "message": replies.api_failure(job)}
    if job.status == JobStatus.FAILED:
        return {"code": "render_failed", "message": replies.api_failure(job)}
    return None


def _expires_at(job: JobRecord, storage: StorageConfig) -> int | None:
    """When retention deletes the clip (stored as the job finishes): `keep_clips_days` later,
    or sooner when a clip kept in the database is dropped once delivered (an API job is
    delivered as it finishes)."""
    if job.clip is None or job.finished_at is None:
        return None
    keep = [timedelta(days=storage.keep_clips_days)] if storage.keep_clips_days > 0 else []
    if job.clip.in_database and storage.drop_delivered_clip_data_hours > 0:
        keep.append(timedelta(hours=storage.drop_delivered_clip_data_hours))
    return _unix(job.finished_at + min(keep)) if keep else None


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None
