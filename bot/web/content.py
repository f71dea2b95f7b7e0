"""`GET /v1/videos/{id}/content?variant=video|thumbnail|preview`: the MP4 or its poster JPEG,
from the data folder or (clips kept in the database) from the clip's row; or the latest
preview of the clip forming.

The preview is served as the worker stored it: one JPEG of up to 4 frames side by side (as
OpenAI's `spritesheet` variant is a sheet of frames). Every browser, `<img>`, chat client and
image viewer shows a JPEG, and the SDK writes whatever bytes come; an animated GIF (256
colours, larger) or WebP would be an encode on every request of an image that changes every
few steps, for clients that may not animate it."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.core import replies
from bot.web.errors import ApiError
from bot.web.models import video_id
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import JobRecord
from storage.store import Store

VARIANTS = {"video": "video/mp4", "thumbnail": "image/jpeg"}
PREVIEW = "preview"
#: Every variant `content` answers, as a refusal names them.
VARIANT_NAMES = "video, thumbnail or preview"


async def clip_response(store: Store, job: JobRecord, variant: str) -> web.StreamResponse:
    """The file of `variant`; 400 for another variant, 409 while there is no clip, 404 once
    retention has deleted it."""
    if variant not in VARIANTS:
        raise ApiError(400, replies.api_bad_value("variant", VARIANT_NAMES, variant),
                       code="invalid_value", param="variant")
    clip = job.clip
    if job.status != JobStatus.SUCCEEDED or clip is None:
        raise ApiError(409, replies.api_no_content(video_id(job.id), job.status),
                       code="video_not_ready")
    if clip.in_database:
        data = await store.jobs.clip_data(job.id)
        if data is None:
            raise _gone(job)
        body = data[0] if variant == "video" else data[1]
        return web.Response(body=body, content_type=VARIANTS[variant])
    path = clip.video_path if variant == "video" else clip.poster_path
    if not await asyncio.to_thread(path.is_file):
        raise _gone(job)
    return web.FileResponse(path, headers={"Content-Type": VARIANTS[variant]})


async def preview_response(previews: PreviewStore, job: JobRecord) -> web.Response:
    """The job's latest preview (a JPEG; `X-Preview-Step` and `X-Preview-Total` say which
    step it shows); 404 while there is none (not yet, a preset that makes none, or removed
    an hour after the job ended)."""
    latest = await previews.latest(job.id)
    if latest is None:
        raise ApiError(404, replies.api_no_preview(video_id(job.id), job.status),
                       code="preview_not_found")
    # A newer preview replaces it within seconds: never served from a cache.
    headers = {"Cache-Control": "no-store", "X-Preview-Step": str(latest.step),
               "X-Preview-Total": str(latest.total)}
    return web.Response(body=latest.jpeg, content_type="image/jpeg", headers=headers)


def _gone(job: JobRecord) -> ApiError:
    return ApiError(404, replies.api_clip_gone(video_id(job.id)), code="clip_deleted")
