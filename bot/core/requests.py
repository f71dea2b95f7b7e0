"""Build the `RenderRequest` a `/video` command asks for: preset defaults, the user's options
(less those the preset's model ignores), the caps, and the model family's rounding."""

from __future__ import annotations

import math

from bot.core import replies
from bot.core.errors import CommandError
from bot.core.parsing import VideoOptions
from storage.records import JobRecord
from storage.users import NO_TIER, Tier
from videobot.config import Config, PresetConfig
from videobot.demo_vocab import shipped_vocab
from videobot.families import family_for_preset, round_to_family
from videobot.limits import LimitExceeded, check_request
from videobot.one_size import snap_to_fixed_size
from videobot.options import field_of, ignored_fields
from videobot.params import RenderRequest
from videobot.request_builder import request_from_preset
from videobot.text import UnsafeText, clean_text
from videobot.tiers import tier_of
from videobot.users import UserRef


def build_request(options: VideoOptions, config: Config) -> tuple[RenderRequest, list[str]]:
    """The request to queue and the notes (roundings) to show; `CommandError` if refused."""
    preset_name = options.overrides.get("preset", config.default_preset)
    preset = config.presets.get(preset_name)
    if preset is None:
        choices = ", ".join(sorted(config.presets))
        raise CommandError(f"there is no preset {preset_name!r}; choose one of: {choices}")
    overrides = dict(options.overrides)
    ignored = _ignored(overrides, preset)
    for option in ignored:
        overrides.pop(field_of(option))
    guidance = overrides.get("guidance", preset.guidance)
    if not math.isfinite(guidance):
        raise CommandError("guidance must be a finite number")
    prompt = _at_the_door(options.prompt, "prompt").strip()
    overrides["negative_prompt"] = _at_the_door(
        overrides.get("negative_prompt", preset.negative_prompt), "negative prompt")
    request = request_from_preset(preset, prompt, overrides | {"guidance": guidance})
    # A one-size model's size first: the caps and roundings then judge what will be rendered.
    request, notes = snap_to_fixed_size(request, preset)
    try:
        check_request(request, preset, config.limits)
        rounded, rounding = round_to_family(request, family_for_preset(preset))
        notes += rounding
        check_request(rounded, preset, config.limits)
    except LimitExceeded as exc:
        raise CommandError(str(exc)) from None
    if ignored:
        notes.append(replies.options_ignored(preset.name, ignored))
    if preset.backend == "demo":
        notes += _demo_notes(rounded.prompt)
    return rounded, notes


def rerun_options(job: JobRecord, *, new_seed: bool = False,
                  prompt: str | None = None) -> VideoOptions:
    """A finished job's request as options to queue again: the same settings, a new seed
    (Reroll) or the same one, and optionally a new prompt (an API remix)."""
    options = {**job.request.to_dict()}
    old_prompt = options.pop("prompt")
    if new_seed:
        options.pop("seed")
    return VideoOptions(old_prompt if prompt is None else prompt, options)


def _ignored(overrides: dict[str, object], preset: PresetConfig) -> list[str]:
    """The options set to something other than the preset's default that its model does not
    use (a value equal to the default changes nothing, e.g. a reroll's stored request)."""
    return [option for option in ignored_fields(overrides, preset)
            if overrides[field_of(option)] != getattr(preset, field_of(option), None)]


def _at_the_door(text: str, what: str) -> str:
    """User text as it may be stored: see `videobot.text`."""
    try:
        return clean_text(text)
    except UnsafeText:
        raise CommandError(replies.nul_refused(what)) from None


def _demo_notes(prompt: str) -> list[str]:
    """A note when the demo model does not know some words of the prompt (its vocabulary is
    plain data on the shared ground)."""
    unknown = shipped_vocab().unknown(prompt)
    return [replies.demo_unknown_words(unknown)] if unknown else []


def submission_tier(user: UserRef, config: Config, *, blind: bool) -> Tier | None:
    """The tier a submission counts in: where the user writes from. A front door that sees
    no chat or role (`blind`: the HTTP API) keeps the tier recorded from their last chat
    request (None), unless a tier names them."""
    tier = tier_of(user, config.quotas)
    if tier is not None:
        return tier.name, tier.priority
    return None if blind else NO_TIER
