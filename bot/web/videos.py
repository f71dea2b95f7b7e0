"""The `/v1` route group: OpenAI's Videos API (create, list, retrieve, delete, content,
remix, extend), our event stream, and the models. Every request goes through the same core as a
chat `/video`; a key acts as its chat identity."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.core import replies
from bot.core.commands import Core, Submission
from bot.core.parsing import VideoOptions
from bot.web import content
from bot.web.auth import Caller, KeyCheck
from bot.web.errors import ApiError, not_found, openai_errors
from bot.web.events import JobWatch, stream_events
from bot.web.extensions import EXTEND_FIELDS, extend_form
from bot.web.forms import (
    CREATE_FIELDS,
    REMIX_FIELDS,
    VideoForm,
    frames_for,
    read_fields,
    read_form,
)
from bot.web.models import job_id_of, model_object, page_object, video_object
from storage.api_keys import ApiKeys
from storage.errors import JobNotFound
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import ApiOrigin, JobRecord
from storage.videos import Videos
from videobot.api_config import ApiConfig
from videobot.config import Config

#: How long `create_and_poll` waits between looks at a waiting or rendering video.
POLL_AFTER_MS = 500
MAX_PAGE = 100
DEFAULT_PAGE = 20


class VideosApi:
    """The routes under `/v1`, with OpenAI's error bodies."""

    prefix = "/v1"

    def __init__(self, *, core: Core, api: ApiConfig, watch: JobWatch) -> None:
        self.core = core
        self.config: Config = core.config
        self.api = api
        self.watch = watch
        self.keys = KeyCheck(ApiKeys(core.store.context))
        self.videos = Videos(core.store.context)
        self.previews = PreviewStore.of(core.store.context, core.config)

    async def warm_up(self) -> None:
        """Read what every request reads first (a key, the served presets) once before the
        first request, so that a burst at start does not wait for cold queries."""
        await self.keys.keys.find("warm-up")
        await self.core.served.presets()

    def application(self) -> web.Application:
        """The sub-application of `/v1`; any other path under it answers 404 in OpenAI's
        shape."""
        app = web.Application(middlewares=[openai_errors(self.api.max_upload_mb)])
        app.router.add_post("/videos", self.create)
        app.router.add_post("/videos/extensions", self.extend)
        app.router.add_get("/videos", self.listing)
        app.router.add_get("/videos/{video_id}", self.retrieve)
        app.router.add_delete("/videos/{video_id}", self.delete)
        app.router.add_get("/videos/{video_id}/content", self.content)
        app.router.add_post("/videos/{video_id}/remix", self.remix)
        app.router.add_get("/videos/{video_id}/events", self.events)
        app.router.add_get("/models", self.models)
        app.router.add_route("*", "/{tail:.*}", self.no_route)
        return app

    async def create(self, request: web.Request) -> web.Response:
        """`POST /videos`: queue a video through the core; the video object at once."""
        caller = await self.keys.caller(request)
        form = await read_form(request, CREATE_FIELDS, max_bytes=self.api.max_upload_bytes)
        options, notes = self._options(form)
        submitted = await self._submit(caller, form, options, notes)
        return self._answer(submitted.job, submitted.position)

    async def remix(self, request: web.Request) -> web.Response:
        """The source's settings, seed and picture with a new prompt, as a new video (a
        remix of an extension extends its source again), as the chat's Vary button does."""
        caller = await self.keys.caller(request)
        source = await self._job(caller, request.match_info["video_id"])
        form = await read_form(request, REMIX_FIELDS, max_bytes=self.api.max_upload_bytes)
        submitted = await self.core.reruns.again(
            caller.acting_for(form.user), source.id, prompt=form.prompt, admin=caller.key.admin,
            target={"nsfw_allowed": caller.key.admin}, api=ApiOrigin(caller.key.id, source.id))
        return self._answer(submitted.job, submitted.position)

    async def extend(self, request: web.Request) -> web.Response:
        """`POST /videos/extensions`: the caller's video continued from its last frame, as a
        new video whose clip is the original followed by the continuation."""
        caller = await self.keys.caller(request)
        form = extend_form(await read_fields(request, EXTEND_FIELDS,
                                             max_bytes=self.api.max_upload_bytes))
        source = await self._job(caller, form.video_id)
        frames, notes = form.continuation_frames(source.request.fps)
        submitted = await self.core.extensions.of_length(
            caller.acting_for(form.user), source, form.prompt, frames=frames,
            target={"nsfw_allowed": caller.key.admin}, api=ApiOrigin(caller.key.id),
            notes=notes)
        return self._answer(submitted.job, submitted.position)

    async def retrieve(self, request: web.Request) -> web.Response:
        """`GET /videos/{id}`: the video object, with where it waits."""
        job = await self._job(await self.keys.caller(request), request.match_info["video_id"])
        return self._answer(job, await self._position(job))

    async def listing(self, request: web.Request) -> web.Response:
        """`GET /videos?after=&limit=&order=`: a cursor page of the caller's videos."""
        caller = await self.keys.caller(request)
        after, limit, newest_first = _page_query(request.query)
        page = await self.videos.page(caller.owner_filter(), after=after, limit=limit,
                                      newest_first=newest_first)
        positions = await self.videos.positions(
            [job.id for job in page.jobs if job.status == JobStatus.QUEUED])
        videos = [video_object(job, positions.get(job.id), self.config) for job in page.jobs]
        return web.json_response(page_object(videos, page.has_more))

    async def delete(self, request: web.Request) -> web.Response:
        """`DELETE /videos/{id}`: cancel, remove the clip, hide it."""
        caller = await self.keys.caller(request)
        video_id = request.match_info["video_id"]
        try:
            await self.videos.delete(job_id_of(video_id), caller.owner_filter())
        except JobNotFound:
            raise not_found(video_id) from None
        return web.json_response({"id": video_id, "object": "video.deleted", "deleted": True})

    async def content(self, request: web.Request) -> web.StreamResponse:
        """`GET /videos/{id}/content?variant=video|thumbnail|preview`: the MP4, the poster,
        or the latest preview of the clip forming."""
        job = await self._job(await self.keys.caller(request), request.match_info["video_id"])
        variant = request.query.get("variant", "video")
        if variant == content.PREVIEW:
            return await content.preview_response(self.previews, job)
        return await content.clip_response(self.core.store, job, variant)

    async def events(self, request: web.Request) -> web.StreamResponse:
        """`GET /videos/{id}/events`: the video's changes as server-sent events."""
        job = await self._job(await self.keys.caller(request), request.match_info["video_id"])

        async def snapshot() -> tuple[JobRecord, dict[str, Any]]:
            fresh = await self.core.store.jobs.require(job.id)
            return fresh, video_object(fresh, await self._position(fresh), self.config)

        return await stream_events(request, self.watch, job.id, snapshot)

    async def models(self, request: web.Request) -> web.Response:
        """The presets a request may name now: those the running workers take (all the
        configured ones while no worker has registered: their jobs wait for one)."""
        await self.keys.caller(request)
        served = await self.core.served.presets()
        names = sorted(served if served is not None else self.config.presets,
                       key=lambda name: (name != self.config.default_preset, name))
        data = [model_object(self.config.presets[name], name == self.config.default_preset)
                for name in names if name in self.config.presets]
        return web.json_response({"object": "list", "data": data})

    async def no_route(self, request: web.Request) -> web.Response:
        """Anything else under `/v1`: 404, in OpenAI's shape (by the middleware)."""
        raise web.HTTPNotFound()

    async def _submit(self, caller: Caller, form: VideoForm, options: VideoOptions,
                      notes: list[str]) -> Submission:
        # An admin key may use every preset, as the operator's shell may.
        return await self.core.submit_video(
            caller.acting_for(form.user), options,
            reply_target={"nsfw_allowed": caller.key.admin}, image=form.image,
            api=ApiOrigin(caller.key.id), notes=notes)

    def _options(self, form: VideoForm) -> tuple[VideoOptions, list[str]]:
        """The chat options of a form; OpenAI's `seconds` becomes frames at the clip's fps."""
        overrides, notes = dict(form.overrides), []
        preset = self.config.presets.get(overrides.get("preset", self.config.default_preset))
        if form.seconds is not None and "frames" in overrides:
            notes.append(replies.API_SECONDS_AND_FRAMES)
        elif form.seconds is not None and preset is not None:
            fps = overrides.get("fps", preset.fps)
            overrides["frames"] = frames_for(form.seconds, fps) if fps > 0 else 1
            notes.append(replies.api_seconds_as_frames(form.seconds, fps, overrides["frames"]))
        return VideoOptions(form.prompt, overrides), notes

    async def _job(self, caller: Caller, video_id: str) -> JobRecord:
        try:
            return await self.videos.get(job_id_of(video_id), caller.owner_filter())
        except JobNotFound:
            raise not_found(video_id) from None

    async def _position(self, job: JobRecord) -> int | None:
        if job.status != JobStatus.QUEUED:
            return None
        return (await self.videos.positions([job.id])).get(job.id)

    def _answer(self, job: JobRecord, position: int | None) -> web.Response:
        headers = {} if job.is_final else {"openai-poll-after-ms": str(POLL_AFTER_MS)}
        return web.json_response(video_object(job, position, self.config), headers=headers)


def _page_query(query: Any) -> tuple[int | None, int, bool]:
    """(after job id, limit, newest first) of `?after=&limit=&order=`."""
    after = _cursor(query["after"]) if query.get("after") else None
    text = query.get("limit", str(DEFAULT_PAGE))
    if not text.isdecimal() or not 1 <= int(text) <= MAX_PAGE:
        raise ApiError(400, replies.api_bad_value("limit", f"a whole number from 1 to {MAX_PAGE}",
                                                  text), code="invalid_value", param="limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(400, replies.api_bad_value("order", "asc or desc", order),
                       code="invalid_value", param="order")
    return after, int(text), order == "desc"


def _cursor(text: str) -> int:
    try:
        return job_id_of(text)
    except ApiError:
        raise ApiError(400, replies.api_bad_value("after", "a video id", text),
                       code="invalid_value", param="after") from None
