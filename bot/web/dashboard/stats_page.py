"""The Stats page (admins): over the last day or week, from the job table, jobs per hour by
outcome, the wait in the queue, render seconds per clip by preset, and the commonest
failures; above them the same figures as `/admin stats`."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.core import replies
from bot.web.dashboard import charts
from bot.web.dashboard.site import Site
from storage.admin import AdminStore
from storage.stats_series import StatsSeries

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}
BUCKET = timedelta(hours=1)


class StatsPage:
    """`/stats?period=day|week`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.series = StatsSeries(site.store.context)
        self.admin_store = AdminStore(site.store.context)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/stats", self.page)

    async def page(self, request: web.Request) -> web.Response:
        self.site.admin(request)
        period_name = request.query.get("period", "day")
        period = PERIODS.get(period_name, PERIODS["day"])
        series = await self.series.jobs(period=period, bucket=BUCKET)
        summary = await self.admin_store.stats(self.site.store.clock() - period)
        return self.site.render(
            request, "stats.html", title="Stats", period=period_name, periods=list(PERIODS),
            summary=replies.stats_report(summary, period).splitlines(),
            outcomes=charts.stacked_bars(series.start, series.bucket, series.outcomes,
                                         label="Jobs per hour by outcome"),
            waits=charts.line(series.start, series.bucket, series.waits,
                              label="Median wait in the queue per hour", unit="s"),
            renders=charts.spreads(series.renders, label="Render seconds per clip by preset",
                                   unit="s"),
            failures=series.failures)
