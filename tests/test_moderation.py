"""The prompt blocklist: normalised matching, refusals that do not echo the prompt, and the
record admins see."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.commands import Core
from bot.core.moderation import Blocklist, normalise
from storage.admin import AdminStore
from storage.store import Store
from tests.quota_helpers import roomy_config
from videobot.config import Config, ConfigError, ModerationConfig, config_from_dict
from videobot.users import UserRef

BLOCKLIST = Blocklist.from_config(ModerationConfig(words=("bad", "very evil"),
                                                   patterns=(r"\bnu+ke\b",)))


def test_normalise_drops_case_accents_and_punctuation() -> None:
    assert normalise("  B.a.D, Ünïcorn!! ") == "b a d unicorn"


@pytest.mark.parametrize("prompt", ["a bad dog", "B.a.D", "bäd", "b a d", "a B-A-D day",
                                    "BÂD!", "something VERY   evil", "nuuuke it"])
def test_blocked_forms_are_caught(prompt: str) -> None:
    assert BLOCKLIST.match(prompt) is not None


@pytest.mark.parametrize("prompt", ["badminton at dawn", "a red ball", "evil twin",
                                    "nukes"])
def test_harmless_prompts_pass(prompt: str) -> None:
    assert BLOCKLIST.match(prompt) is None


#: Ways to write a blocked word ("badword") that a plain lower-case match misses.
BYPASSES = [
    ("zero-width space", "a bad\u200bword here"),
    ("zero-width joiner and word joiner", "bad\u200dwo\u2060rd"),
    ("soft hyphen", "badw\u00adord"),
    ("hyphen", "a bad-word"),
    ("non-breaking hyphen", "bad\u2011word"),
    ("dot", "bad.word"),
    ("underscore", "BAD_WORD"),
    ("middle dot and slash", "bad\u00b7wo/rd"),
    ("letters spelled out", "b.a.d.w.o.r.d"),
    ("letters spaced out", "b a d w o r d"),
    ("Cyrillic look-alikes", "b\u0430dw\u043er\u0501"),
    ("Greek look-alikes", "b\u03b1dw\u03bfrd"),
    ("fullwidth letters", "\uff42\uff41\uff44\uff57\uff4f\uff52\uff44"),
    ("mathematical bold letters", "\U0001d41b\U0001d41a\U0001d41d\U0001d430\U0001d428"
                                  "\U0001d42b\U0001d41d"),
    ("circled letters", "\u24d1\u24d0\u24d3\u24e6\u24de\u24e1\u24d3"),
    ("combining strokes", "b\u0336a\u0336d\u0336word"),
    ("accents", "b\u00e4dw\u00f6rd"),
    ("variation selector", "bad\ufe0fword"),
    ("Hangul filler", "bad\u3164word"),
    ("right-to-left override", "\u202ebadword\u202c"),
    ("digits and signs for letters", "b@dw0rd"),
    ("upper and mixed case", "BaDwOrD"),
]

#: Prompts that must still pass beside that blocklist.
ORDINARY_PROMPTS = [
    "a red ball bouncing", "a cat's toy on a state-of-the-art robot", "Mr. Smith's café",
    "a 3d render of 4 cats at 1080p", "7 red balls, 3.5 inches wide", "日本の桜が散る",
    "собака бежит по полю", "rock'n'roll e-mail", "a bad day for a word game",
    "badminton and crosswords",
]


@pytest.mark.parametrize(("name", "prompt"), BYPASSES, ids=[name for name, _ in BYPASSES])
def test_a_blocked_word_is_caught_however_it_is_written(name: str, prompt: str) -> None:
    blocklist = Blocklist.from_config(ModerationConfig(words=("badword",)))
    assert blocklist.match(prompt) == "word 'badword'", name


@pytest.mark.parametrize("prompt", ORDINARY_PROMPTS)
def test_ordinary_prompts_pass_beside_that_blocklist(prompt: str) -> None:
    blocklist = Blocklist.from_config(ModerationConfig(words=("badword", "bad-word", "gore"),
                                                       patterns=(r"\bsplatter\b",)))
    assert blocklist.match(prompt) is None


def test_rules_are_normalised_as_prompts_are() -> None:
    fullwidth_gore = "\uff27\uff2f\uff32\uff25"
    blocklist = Blocklist.from_config(ModerationConfig(words=("Bad-Word", fullwidth_gore)))
    assert blocklist.match("a badword") == "word 'badword'"
    assert blocklist.match("a bad word") == "word 'bad word'"
    assert blocklist.match("g\u200bore") == "word 'gore'"


def test_patterns_see_the_joined_and_spaced_forms() -> None:
    blocklist = Blocklist.from_config(ModerationConfig(patterns=(r"\bbad ?word\b",)))
    for prompt in ("bad-word", "b.a.d.w.o.r.d", "bad\u200bword", "BAD WORD"):
        assert blocklist.match(prompt) is not None, prompt


def test_a_bad_pattern_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"moderation.patterns\[0\]: not a regular"):
        config_from_dict({"moderation": {"patterns": ["(unclosed"]}})


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return roomy_config(tmp_path, database_url, moderation={"words": ["bad"]})


async def test_refused_prompt_is_not_echoed_and_is_recorded(store: Store,
                                                            config: Config) -> None:
    core = Core(store=store, config=config)
    alice = UserRef("console", "alice")
    reply = await core.handle(alice, "/video a very B.a.D dog")
    assert reply.job is None
    assert reply.text == "Sorry: that prompt is not allowed here; the admins have been told."
    assert "dog" not in reply.text
    assert await store.jobs.jobs_of(alice) == []
    [entry] = await AdminStore(store.context).audit()
    assert (entry.actor, entry.action, entry.target) == ("console:alice", "prompt refused",
                                                         "console:alice")
    assert entry.detail == "word 'bad': a very B.a.D dog"
    negative = await core.handle(alice, '/video a dog --negative "bäd"')
    assert negative.job is None
