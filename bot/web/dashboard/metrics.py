"""`GET /metrics` in the Prometheus text format (prometheus-client), read from the database at
each scrape, so that it counts the work of every process and host. Readable with an admin API
key (`Authorization: Bearer <key>`) or from an address in `[api] metrics_allow`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bot.core import replies
from bot.core.admin import is_admin
from bot.core.commands import Core
from bot.web.dashboard.addresses import Addresses, allowed, networks_of
from storage.api_keys import ApiKeys
from storage.monitoring import RENDER_BUCKETS, MetricsSnapshot, metrics_snapshot
from videobot.api_config import ApiConfig

_BEARER = "bearer "


class MetricsEndpoint:
    """The route group of `/metrics`."""

    prefix = "/metrics"

    def __init__(self, *, core: Core, api: ApiConfig) -> None:
        self.core = core
        self.keys = ApiKeys(core.store.context)
        self.addresses = Addresses(api.trusted_proxies)
        self.allow = networks_of(api.metrics_allow)
        self.lease = timedelta(seconds=core.config.queue.lease_seconds)

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_get("", self.metrics)
        return app

    async def metrics(self, request: web.Request) -> web.Response:
        """The figures, or 401 naming the two ways in."""
        if not await self._may_read(request):
            return web.Response(status=401, text=replies.METRICS_REFUSED + "\n",
                                headers={"WWW-Authenticate": "Bearer"})
        snapshot = await metrics_snapshot(self.core.store.context,
                                          alive_since=self.core.store.clock() - self.lease)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Figures(snapshot))
        return web.Response(body=generate_latest(registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _may_read(self, request: web.Request) -> bool:
        if allowed(self.addresses.client(request), self.allow):
            return True
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith(_BEARER):
            return False
        key = await self.keys.find(header[len(_BEARER):].strip())
        return key is not None and (key.admin or is_admin(key.user, self.core.config))


class _Figures(Collector):
    """One scrape's snapshot as metric families."""

    def __init__(self, snapshot: MetricsSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        jobs = GaugeMetricFamily("videobot_jobs", "Jobs in the job table by state.",
                                 labels=["state"])
        for state, count in s.jobs_by_status.items():
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily("videobot_queue_length", "Jobs waiting to be claimed.",
                                value=s.queue_length)
        yield GaugeMetricFamily("videobot_workers_alive",
                                "Workers heard from within three heartbeats.",
                                value=s.workers_alive)
        yield GaugeMetricFamily("videobot_webhook_backlog",
                                "Webhook events not yet delivered (waiting or retrying).",
                                value=s.webhook_backlog)
        yield CounterMetricFamily("videobot_credits_charged", "Credits charged for jobs.",
                                  value=s.credits_charged)
        yield CounterMetricFamily("videobot_credits_refunded",
                                  "Credits given back for failed or cancelled jobs.",
                                  value=s.credits_refunded)
        yield GaugeMetricFamily("videobot_credits_spent", "Credits charged and not refunded.",
                                value=round(s.credits_charged - s.credits_refunded, 4))
        renders = HistogramMetricFamily("videobot_render_seconds",
                                        "Seconds to render a clip, by preset.",
                                        labels=["preset"])
        for preset, histogram in s.renders.items():
            buckets = [(floatToGoString(bound), count)
                       for bound, count in zip(RENDER_BUCKETS, histogram.buckets, strict=True)]
            renders.add_metric([preset], [*buckets, ("+Inf", histogram.count)],
                               sum_value=histogram.total_seconds)
        yield renders
