"""The Audit page (admins): the audit log, newest first, filtered by action, actor, target
and any words, in the URL."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.web.dashboard.site import Site
from storage.admin import AdminStore, AuditFilter

PAGE_SIZE = 50
MAX_WORDS = 100


class AuditPage:
    """`/audit?action=&actor=&target=&q=&before=`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.admin_store = AdminStore(site.store.context)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/audit", self.page)

    async def page(self, request: web.Request) -> web.Response:
        self.site.admin(request)
        query = request.query
        chosen = AuditFilter(*(query.get(name, "").strip()[:MAX_WORDS]
                               for name in ("action", "actor", "target", "q")))
        before = query.get("before", "")
        entries = await self.admin_store.audit(
            PAGE_SIZE + 1, chosen=chosen,
            before=int(before) if before.isdecimal() and len(before) <= 18 else None)
        shown = entries[:PAGE_SIZE]
        older = ""
        if len(entries) > PAGE_SIZE:  # the next page starts below the last row shown
            older = "?" + urlencode({**{k: v for k, v in query.items() if v},
                                     "before": str(shown[-1].id)})
        return self.site.render(request, "audit.html", title="Audit", entries=shown,
                                chosen=chosen, older=older,
                                actions=await self.admin_store.audit_actions())
