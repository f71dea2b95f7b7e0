"""`videobot doctor`: what this host can run. The torch build, the devices and their free
memory, and for each preset the workers here serve: where its weights are, whether it is
likely to fit, and the option that would make it fit."""

from __future__ import annotations

import importlib.util
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generator.memory_estimate import (
    GIB,
    KNOWN_PARAMETERS,
    Weights,
    estimate,
    folder_weights,
    measured,
    model_parameters,
)
from videobot.config import Config, PresetConfig
from videobot.families import family_for_preset

#: Families whose text encoder's tokenizer needs `ftfy` to clean prompts.
NEEDS_FTFY = ("wan", "wan-i2v", "wan-5b")


@dataclass(frozen=True)
class DeviceReport:
    name: str
    description: str
    total_bytes: float
    free_bytes: float
    usable: bool
    problem: str = ""


@dataclass(frozen=True)
class PresetReport:
    name: str
    model: str
    weights_from: str
    device: str
    need_bytes: float | None
    free_bytes: float | None
    verdict: str
    advice: list[str] = field(default_factory=list)
    #: For a preset of known size: what it takes on common cards ("fits as set" or advice).
    on_cards: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DoctorReport:
    python: str
    torch: str
    cuda: str
    devices: list[DeviceReport]
    presets: list[PresetReport]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def examine(config: Config) -> DoctorReport:
    """Look at this host: torch, each configured device, each served preset on the first."""
    import torch

    cuda = torch.version.cuda if torch.cuda.is_available() else ""
    devices = [_device(name) for name in config.worker.devices]
    first = devices[0]
    presets = [_preset(config, config.presets[name], first)
               for name in config.worker.served_presets(config)]
    return DoctorReport(
        python=platform.python_version(), torch=torch.__version__,
        cuda=f"CUDA {cuda}" if cuda else "no CUDA (this torch build or host has no GPU)",
        devices=devices, presets=presets,
    )


def format_report(report: DoctorReport) -> str:
    lines = [f"python {report.python}, torch {report.torch}, {report.cuda}", "devices:"]
    for device in report.devices:
        memory = (f"{device.free_bytes / GIB:.1f} GiB free of {device.total_bytes / GIB:.1f}"
                  if device.usable else device.problem)
        lines.append(f"  {device.name}: {device.description}: {memory}")
    lines.append("presets (on the first device):")
    for preset in report.presets:
        need = (f", needs ~{preset.need_bytes / GIB:.1f} GiB"
                if preset.need_bytes is not None else "")
        lines.append(f"  {preset.name}: {preset.verdict}{need} "
                     f"({preset.model}; weights {preset.weights_from})")
        lines.extend(f"    - {advice}" for advice in preset.advice)
        if preset.on_cards:
            lines.append("    on a card with " + "; ".join(
                f"{card}: {words}" for card, words in preset.on_cards.items()))
    return "\n".join(lines)


def _device(name: str) -> DeviceReport:
    import torch

    kind = torch.device(name).type
    if kind == "cpu":
        total, free = _ram()
        return DeviceReport(name, f"{os.cpu_count()} CPU cores (slow for real models)",
                            total, free, True)
    if kind != "cuda":
        return DeviceReport(name, kind, 0, 0, False, "not examined (only cpu and cuda are)")
    if not torch.cuda.is_available():
        return DeviceReport(name, "CUDA", 0, 0, False,
                            f"unusable: torch {torch.__version__} sees no CUDA GPU (a CPU "
                            "build of torch, or no driver; see README for the CUDA build)")
    index = torch.device(name).index or 0
    if index >= torch.cuda.device_count():
        return DeviceReport(name, "CUDA", 0, 0, False,
                            f"unusable: only {torch.cuda.device_count()} GPU(s) here")
    free, total = torch.cuda.mem_get_info(index)
    return DeviceReport(name, torch.cuda.get_device_name(index), total, free, True)


def _preset(config: Config, preset: PresetConfig, device: DeviceReport) -> PresetReport:
    weights, weights_from = _weights(config, preset)
    advice = _missing_packages(preset)
    if preset.backend == "demo":
        return PresetReport(preset.name, preset.model, weights_from, device.name, None, None,
                            "fits (the embedded demo model is 3 MB)", advice)
    on_cards = _on_cards(preset, weights) if weights is not None else {}
    if not device.usable:
        return PresetReport(preset.name, preset.model, weights_from, device.name, None, None,
                            f"cannot run: {device.name} is unusable", advice, on_cards)
    if weights is None:
        return PresetReport(preset.name, preset.model, weights_from, device.name, None,
                            device.free_bytes, "unknown size", advice)
    accelerator = device.name != "cpu"
    guess = estimate(preset, weights, device.free_bytes, accelerator=accelerator)
    verdict = "likely fits" if guess.fits else "likely does NOT fit"
    if guess.advice:
        advice = [guess.advice, *advice]
    advice += _estimate_notes(preset) + _cache_notes(preset, weights)
    return PresetReport(preset.name, preset.model, weights_from, device.name,
                        guess.need_bytes, guess.free_bytes, verdict, advice, on_cards)


#: Free memory of common cards with nothing else on them.
COMMON_CARDS = {"12 GB": 11.5 * GIB, "24 GB": 23.0 * GIB, "80 GB": 78.0 * GIB}


def _on_cards(preset: PresetConfig, weights: Weights) -> dict[str, str]:
    if preset.backend == "demo" or preset.model.startswith("builtin:"):
        return {}
    cards = {}
    for card, free in COMMON_CARDS.items():
        guess = estimate(preset, weights, free, accelerator=True)
        cards[card] = "fits as set" if guess.fits else guess.advice
    return cards


def _weights(config: Config, preset: PresetConfig) -> tuple[Weights | None, str]:
    """The preset's parameter counts, and where they were read from."""
    if preset.backend == "demo":
        return None, "shipped with videobot"
    folder = _local_folder(config, preset.model)
    if folder is not None:
        weights = folder_weights(folder)
        if preset.motion_adapter:
            adapter = _local_folder(config, preset.motion_adapter)
            if adapter is not None:
                weights = Weights({**weights.parameters,
                                   "motion_adapter": model_parameters(adapter)})
        return weights, f"in {folder}"
    if preset.model.startswith("builtin:"):
        return Weights({}), "tiny builtin, built on first use"
    known = KNOWN_PARAMETERS.get(preset.model)
    if known is not None:
        return Weights(known), "not downloaded; sizes from the model card"
    return None, "not downloaded, and not a model videobot knows the size of"


def _local_folder(config: Config, model: str) -> Path | None:
    """Where `model`'s files are on this host: a builtin's folder, a local folder, or a hub
    id already in the Hugging Face cache; None if nowhere."""
    if model.startswith("builtin:"):
        folder = config.data_dir / "models" / model.removeprefix("builtin:")
        return folder if folder.is_dir() else None
    local = Path(model).expanduser()
    if local.is_dir():
        return local
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None


def _estimate_notes(preset: PresetConfig) -> list[str]:
    if measured(preset):
        return []
    family = family_for_preset(preset).name
    return [f"the memory estimate is unmeasured: no GPU has measured the {family} family yet, "
            "so its working memory is a rule of thumb that errs high"]


def _cache_notes(preset: PresetConfig, weights: Weights) -> list[str]:
    """What a cache needs that the preset cannot show: MagCache's per-model calibration."""
    if preset.cache != "mag":
        return []
    from generator.backends.caches import WAN_14B_LAYERS, mag_settings

    family = family_for_preset(preset).name
    large = weights.parameters.get("transformer", 0) >= LARGE_WAN_PARAMETERS
    settings = mag_settings(family, WAN_14B_LAYERS if large else None)
    if settings is None:
        return [f"cache mag needs magnitude ratios calibrated for this model, and none are "
                f"published for the {family} family: the worker refuses the preset (calibrate "
                f"with diffusers' MagCacheConfig(calibrate=True), or use taylorseer)"]
    return [f"cache mag uses the ratios its authors calibrated on {settings.model}; another "
            "checkpoint (a fine-tune) needs its own calibration"]


#: A Wan transformer this large is Wan 2.1 14B, not 1.3B.
LARGE_WAN_PARAMETERS = 10e9


def _missing_packages(preset: PresetConfig) -> list[str]:
    advice = []
    if preset.family in NEEDS_FTFY and importlib.util.find_spec("ftfy") is None:
        advice.append("pip install ftfy (Wan's tokenizer cleans prompts with it)")
    if preset.compile != "none" and importlib.util.find_spec("triton") is None:
        advice.append("torch.compile on a GPU needs triton (part of the CUDA build of torch)")
    if preset.attention_backend:
        from diffusers.models.attention_dispatch import (
            AttentionBackendName,
            _check_attention_backend_requirements,
        )

        try:
            _check_attention_backend_requirements(AttentionBackendName(preset.attention_backend))
        except ValueError:
            advice.append(f"attention_backend {preset.attention_backend!r} is not a diffusers "
                          "attention backend")
        except RuntimeError as exc:
            advice.append(str(exc))
    return advice


def _ram() -> tuple[float, float]:
    """Total and available bytes of RAM (Linux; elsewhere the total only)."""
    total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return total, float(line.split()[1]) * 1024
    except OSError:
        pass
    return total, total
