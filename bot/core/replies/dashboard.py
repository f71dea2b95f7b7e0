"""The web dashboard's own lines: signing in, empty tables, its forms and summaries."""

from __future__ import annotations

from bot.core.replies.admin import QUEUE_PAUSED

DASHBOARD_SIGNIN_HINT = ("Sign in with an API key of this bot: /apikey in a private chat with "
                         "the bot gives you one.")


DASHBOARD_KEY_MISSING = "enter an API key (/apikey in a private chat with the bot gives you one)"


DASHBOARD_FORM_EXPIRED = ("this form has expired or did not come from this dashboard, so nothing "
                          "was done; try again")


DASHBOARD_SIGNED_OUT = "You are signed out."


DASHBOARD_NO_PAGE = "there is no such page here"


DASHBOARD_INTERNAL = "Something went wrong on our side; the operator can find why in the log."


METRICS_REFUSED = ("GET /metrics needs an admin API key (Authorization: Bearer <key>) or an "
                   "address in [api] metrics_allow")


CHART_EMPTY = "nothing in this period"


NO_CLIPS = "No finished clips to show."


NO_USERS = "No user matches."


NO_AUDIT = "No audit entry matches."


def dashboard_signin_wait(seconds: float) -> str:
    """A sign-in refused because its address failed too often just before."""
    return (f"too many failed sign-ins from your address; try again in "
            f"{max(1, round(seconds))} s")


def dashboard_preview(job_id: int, step: int) -> str:
    """The queue page's words for a rendering job's preview (its image's alternative text)."""
    return f"Job #{job_id} forming, at step {step}"


def dashboard_deleted(job_id: int) -> str:
    return f"Job #{job_id} is deleted, and its clip removed."


def queue_summary(running: int, waiting: int, paused: bool) -> str:
    """The line above the dashboard's queue."""
    line = f"{running} rendering, {waiting} waiting."
    return f"{QUEUE_PAUSED} {line}" if paused else line


def duration_words(seconds: float | None) -> str:
    """A short length of time, as an ETA shows it: `40 s`, `3 min`, `2 h 5 min`; `—` unknown."""
    if seconds is None:
        return "—"
    whole = max(0, round(seconds))
    if whole < 90:
        return f"{whole} s"
    minutes = round(whole / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes // 60} h {minutes % 60} min"


def form_one_word(name: str, value: str) -> str:
    """A dashboard form field that must be one word (a user, a number) and is not."""
    if not value:
        return f"Sorry: fill in the {name}."
    return f"Sorry: the {name} must be one word, not {value!r}."
