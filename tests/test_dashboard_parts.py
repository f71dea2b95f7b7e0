"""The dashboard's small parts on their own: signed values, the sign-in slow-down, client
addresses behind proxies, the queue's estimates, and the SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import make_mocked_request

from bot.web.dashboard import charts
from bot.web.dashboard.addresses import Addresses
from bot.web.dashboard.queue_feed import estimate
from bot.web.dashboard.sessions import Signer
from bot.web.dashboard.throttle import FREE_FAILURES, SignInThrottle
from storage.models import JobStatus
from storage.records import JobRecord
from storage.stats_series import Spread
from videobot.params import RenderRequest
from videobot.users import UserRef

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def test_a_signed_value_is_bound_to_its_secret_and_purpose() -> None:
    signer = Signer(b"k" * 40)
    sealed = signer.seal("flash", {"m": "hello"})
    assert signer.unseal("flash", sealed) == {"m": "hello"}
    assert signer.unseal("session", sealed) is None
    assert Signer(b"j" * 40).unseal("flash", sealed) is None
    session, cookie = signer.new_session(7, NOW, timedelta(hours=2))
    assert signer.session(cookie, NOW + timedelta(hours=1)) == session
    assert signer.session(cookie, NOW + timedelta(hours=2)) is None
    assert signer.csrf_ok(session.nonce, signer.csrf_token(session.nonce))
    assert not signer.csrf_ok(session.nonce, signer.csrf_token("another nonce"))
    assert not signer.csrf_ok("", signer.csrf_token(""))


def test_failures_make_an_address_wait_longer_each_time_and_success_forgets() -> None:
    now = [0.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    waits = [throttle.failed("203.0.113.9") for _ in range(FREE_FAILURES + 3)]
    assert waits == [0.0] * FREE_FAILURES + [2.0, 4.0, 8.0]
    assert throttle.wait_left("203.0.113.9") == 8.0 and throttle.wait_left("10.0.0.1") == 0.0
    now[0] += 8.0
    assert throttle.wait_left("203.0.113.9") == 0.0
    throttle.succeeded("203.0.113.9")
    assert throttle.failed("203.0.113.9") == 0.0
    now[0] += 3600  # an old run of failures is forgotten
    assert [throttle.failed("203.0.113.9") for _ in range(FREE_FAILURES)] == [0.0] * 3


def test_the_client_address_is_forwarded_only_by_a_trusted_proxy() -> None:
    def client(peer: str, forwarded: str, trusted: list[str]) -> str:
        request = make_mocked_request("GET", "/", headers={"X-Forwarded-For": forwarded})
        request = request.clone(remote=peer)
        return Addresses(trusted).client(request)

    assert client("203.0.113.9", "10.0.0.1", []) == "203.0.113.9"
    assert client("127.0.0.1", "198.51.100.7", []) == "127.0.0.1"
    assert client("127.0.0.1", "198.51.100.7", ["127.0.0.1"]) == "198.51.100.7"
    assert client("127.0.0.1", "1.2.3.4, 198.51.100.7", ["127.0.0.1"]) == "198.51.100.7"
    assert client("127.0.0.1", "198.51.100.7, 10.0.0.2", ["127.0.0.0/8", "10.0.0.0/8"]) == (
        "198.51.100.7")


def _job(job_id: int, status: str, preset: str = "wan", step: int = 0,
         started: datetime | None = None) -> JobRecord:
    request = RenderRequest(prompt="p", negative_prompt="", frames=8, fps=8, width=64,
                            height=64, steps=10, guidance=1.0, seed=1, preset=preset)
    return JobRecord(id=job_id, user=UserRef("console", "a"), status=status, request=request,
                     notes=(), reply_target={}, attempts=1, max_attempts=3, worker_id=None,
                     progress_step=step, progress_total=10, cancel_requested=False,
                     error=None, created_at=NOW, started_at=started, finished_at=None,
                     delivered_at=None, heartbeat_at=None)


def test_the_estimate_plays_the_queue_forward_on_the_live_workers() -> None:
    running = _job(1, JobStatus.RUNNING, step=5, started=NOW - timedelta(seconds=50))
    waiting = [_job(2, JobStatus.QUEUED), _job(3, JobStatus.QUEUED),
               _job(4, JobStatus.QUEUED, preset="ltx"), _job(5, JobStatus.QUEUED)]
    typical = {"wan": 100.0}
    one = estimate([running, *waiting], typical, 1, NOW)
    assert one == {1: 50.0, 2: 150.0, 3: 250.0}  # no figure for ltx: nothing from job 4 on
    two = estimate([running, *waiting], typical, 2, NOW)
    assert two == {1: 50.0, 2: 100.0, 3: 150.0}
    fresh = replace(running, progress_step=0, started_at=NOW - timedelta(seconds=30))
    assert estimate([fresh], typical, 1, NOW) == {1: 70.0}


def _svg(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def test_stacked_bars_are_svg_with_heights_in_proportion() -> None:
    start = NOW - timedelta(hours=3)
    svg = _svg(charts.stacked_bars(start, timedelta(hours=1), {
        "succeeded": [4, 0, 2], "failed": [0, 0, 2], "cancelled": [0, 0, 0]}, label="Jobs <&>"))
    bars = svg.findall(f"{SVG}rect")
    heights = {(bar.get("class"), float(bar.get("x", 0)) // 1): float(bar.get("height", 0))
               for bar in bars}
    assert len(bars) == 3
    first, third = sorted({x for _, x in heights})
    assert heights[("bar succeeded", first)] == 2 * heights[("bar succeeded", third)]
    assert heights[("bar failed", third)] == heights[("bar succeeded", third)]
    assert svg.get("aria-label") == "Jobs <&>"
    assert "Thu 09:00 UTC: 4 succeeded" in [t.text for t in svg.iter(f"{SVG}title")]


def test_lines_spreads_and_empty_charts_are_svg_too() -> None:
    line = _svg(charts.line(NOW, timedelta(hours=1), [3.0, None, 5.0, 6.0], label="Wait",
                            unit="s"))
    assert len(line.findall(f"{SVG}circle")) == 3 and len(line.findall(f"{SVG}polyline")) == 1
    spreads = _svg(charts.spreads({"wan": Spread(3, 10.0, 20.0), "<b>": Spread(1, 5.0, 5.0)},
                                  label="Render", unit="s"))
    assert [t.text for t in spreads.findall(f"{SVG}text") if t.get("class") == "label"] == [
        "wan", "<b>"]
    empty = _svg(charts.stacked_bars(NOW, timedelta(hours=1), {"succeeded": [0, 0]},
                                     label="Jobs"))
    assert "nothing in this period" in [t.text for t in empty.iter(f"{SVG}text")]
