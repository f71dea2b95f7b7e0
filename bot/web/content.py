"""`GET /v1/videos/{id}/content?variant=video|thumbnail`: the MP4 or its poster JPEG, from the
data folder or (clips kept in the database) from the clip's row."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.core import replies
from bot.web.errors import ApiError
from bot.web.models import video_id
from storage.jobs import JobStore
from storage.models import JobStatus
from storage.records import JobRecord

VARIANTS = {"video": "video/mp4", "thumbnail": "image/jpeg"}


async def clip_response(store: JobStore, job: JobRecord, variant: str) -> web.StreamResponse:
    """The file of `variant`; 400 for another variant, 409 while there is no clip, 404 once
    retention has deleted it."""
    if variant not in VARIANTS:
        raise ApiError(400, replies.api_bad_value("variant", "video or thumbnail", variant),
                       code="invalid_value", param="variant")
    clip = job.clip
    if job.status != JobStatus.SUCCEEDED or clip is None:
        raise ApiError(409, replies.api_no_content(video_id(job.id), job.status),
                       code="video_not_ready")
    if clip.in_database:
        data = await store.clip_data(job.id)
        if data is None:
            raise _gone(job)
        body = data[0] if variant == "video" else data[1]
        return web.Response(body=body, content_type=VARIANTS[variant])
    path = clip.video_path if variant == "video" else clip.poster_path
    if not await asyncio.to_thread(path.is_file):
        raise _gone(job)
    return web.FileResponse(path, headers={"Content-Type": VARIANTS[variant]})


def _gone(job: JobRecord) -> ApiError:
    return ApiError(404, replies.api_clip_gone(video_id(job.id)), code="clip_deleted")
