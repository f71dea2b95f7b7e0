"""The prompt blocklist: normalised matching, refusals that do not echo the prompt, and the
record admins see."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.commands import Core
from bot.core.moderation import Blocklist, normalise
from storage.admin import AdminStore
from storage.jobs import JobStore
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


def test_a_bad_pattern_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"moderation.patterns\[0\]: not a regular"):
        config_from_dict({"moderation": {"patterns": ["(unclosed"]}})


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return roomy_config(tmp_path, database_url, moderation={"words": ["bad"]})


async def test_refused_prompt_is_not_echoed_and_is_recorded(store: JobStore,
                                                            config: Config) -> None:
    core = Core(store=store, config=config)
    alice = UserRef("console", "alice")
    reply = await core.handle(alice, "/video a very B.a.D dog")
    assert reply.job is None
    assert reply.text == "Sorry: that prompt is not allowed here; the admins have been told."
    assert "dog" not in reply.text
    assert await store.jobs_of(alice) == []
    [entry] = await AdminStore(store).audit()
    assert (entry.actor, entry.action, entry.target) == ("console:alice", "prompt refused",
                                                         "console:alice")
    assert entry.detail == "word 'bad': a very B.a.D dog"
    negative = await core.handle(alice, '/video a dog --negative "bäd"')
    assert negative.job is None
