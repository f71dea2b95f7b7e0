"""The Clips page: a gallery of finished jobs with their posters, newest first, filtered by
user, preset and outcome in the URL; each clip's own page plays it inline with its prompt,
seed and settings. Rerun (the same seed, through the core's rerun) and delete (as the API's
DELETE) are its actions. Another user's clip is a 404, the same as none."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from bot.core import replies
from bot.web import content
from bot.web.dashboard.site import ROOT, Site, Viewer, not_found
from bot.web.errors import ApiError
from storage.errors import JobNotFound
from storage.gallery import Gallery, GalleryFilter
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import ApiOrigin, JobRecord
from storage.videos import Videos
from videobot.users import BadUserName, parse_user

PAGE_SIZE = 24
CLIP = "/clips/{job_id:[0-9]{1,18}}"
MEDIA = {"video": "video", "poster": "thumbnail"}


class ClipsPage:
    """`/clips`, `/clips/{id}`, its media, and the rerun and delete actions."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.gallery = Gallery(site.store.context)
        self.videos = Videos(site.store.context)
        self.previews = PreviewStore.of(site.store.context, site.config)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/clips", self.listing)
        router.add_get(CLIP, self.clip)
        router.add_get(CLIP + "/{media:video|poster|preview}", self.media)
        router.add_post(CLIP + "/rerun", self.rerun)
        router.add_post(CLIP + "/delete", self.delete)

    async def listing(self, request: web.Request) -> web.Response:
        """The gallery, narrowed by `?user=&preset=&status=`, paged by `?before=<job id>`."""
        viewer = self.site.viewer(request)
        chosen = _filter(request.query, viewer)
        before = request.query.get("before", "")
        page = await self.gallery.page(
            viewer.owner_filter(), chosen, limit=PAGE_SIZE,
            before=int(before) if before.isdecimal() and len(before) <= 18 else None)
        choices = await self.gallery.choices(viewer.owner_filter())
        older = _query(request.query, before=str(page.jobs[-1].id)) if page.has_more else ""
        return self.site.render(request, "clips.html", title="Clips", jobs=page.jobs,
                                chosen=chosen, choices=choices, statuses=JobStatus.FINAL,
                                older=older)

    async def clip(self, request: web.Request) -> web.Response:
        """One clip: it plays inline, with everything that reproduces it."""
        job = await self._job(request)
        return self.site.render(request, "clip.html", title=f"Job #{job.id}", job=job,
                                playable=_playable(job),
                                status_line=_status_line(job, self.site.store.clock()))

    async def media(self, request: web.Request) -> web.StreamResponse:
        """The MP4, its poster or the latest preview, as the API serves them (404 once
        deleted by retention, and a preview while there is none)."""
        job = await self._job(request)
        media = request.match_info["media"]
        try:
            if media == content.PREVIEW:
                return await content.preview_response(self.previews, job)
            return await content.clip_response(self.site.store, job, MEDIA[media])
        except ApiError:
            not_found()

    async def rerun(self, request: web.Request) -> web.Response:
        """Queue the clip again with the same seed and settings, for the viewer."""
        viewer = self.site.viewer(request)
        job = await self._job(request)
        reply = await self.site.core.rerun(
            viewer.user, job.id, new_seed=False, admin=viewer.admin,
            api=ApiOrigin(viewer.key.id), reply_target={"nsfw_allowed": viewer.admin})
        self.site.done(request, reply, to=f"{ROOT}/queue")

    async def delete(self, request: web.Request) -> web.Response:
        """Delete as the API's DELETE does: cancel if needed, remove the clip, hide it."""
        viewer = self.site.viewer(request)
        job = await self._job(request)
        await self.videos.delete(job.id, viewer.owner_filter())
        self.site.done(request, replies.dashboard_deleted(job.id), to=f"{ROOT}/clips")

    async def _job(self, request: web.Request) -> JobRecord:
        viewer = self.site.viewer(request)
        try:
            return await self.videos.get(int(request.match_info["job_id"]),
                                         viewer.owner_filter())
        except JobNotFound:
            not_found()


def _filter(query: MultiMapping[str], viewer: Viewer) -> GalleryFilter:
    """The filters of the URL; values that name nothing narrow nothing (a plain user sees
    only their own clips whatever `user` says)."""
    user = None
    if viewer.admin and query.get("user"):
        try:
            user = parse_user(query["user"])
        except BadUserName:
            user = None
    status = query.get("status", "")
    return GalleryFilter(user=user, preset=query.get("preset", "")[:64],
                         status=status if status in JobStatus.FINAL else "")


def _query(query: MultiMapping[str], **changes: str) -> str:
    """The page's query with `changes` made (the filters kept, e.g. for the next page)."""
    return "?" + urlencode({**{k: v for k, v in query.items() if v}, **changes})


def _playable(job: JobRecord) -> bool:
    return job.status == JobStatus.SUCCEEDED and job.clip is not None


def _status_line(job: JobRecord, now: datetime) -> str:
    """What stands in for the clip when there is none to play."""
    if job.status == JobStatus.SUCCEEDED:
        return replies.api_clip_gone(f"#{job.id}")
    if job.is_final:
        return replies.finished(job)
    return replies.progress(job, None, now)
