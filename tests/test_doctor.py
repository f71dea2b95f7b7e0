"""`videobot doctor` on this CPU machine, and the memory estimate behind its advice."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from generator.backends.tiny_models import ensure_builtin_model
from generator.doctor import examine, format_report
from generator.memory_estimate import (
    GIB,
    KNOWN_PARAMETERS,
    Weights,
    estimate,
    folder_weights,
    peak_bytes,
)
from videobot.config import PresetConfig, config_from_dict

WAN = PresetConfig(name="wan", model="Wan-AI/Wan2.1-T2V-1.3B-Diffusers", family="wan",
                   dtype="bfloat16", frames=81, fps=16, width=832, height=480, steps=50,
                   max_frames=81, max_pixels=832 * 480)


def test_the_report_on_this_cpu_machine(tmp_path: Path) -> None:
    config = config_from_dict({"data_dir": str(tmp_path)})
    report = examine(config)
    assert report.torch == torch.__version__
    assert report.cuda.startswith("no CUDA")
    [cpu] = report.devices
    assert cpu.name == "cpu" and cpu.usable and 0 < cpu.free_bytes <= cpu.total_bytes
    assert [p.name for p in report.presets] == ["demo", "tiny"]
    assert report.presets[0].verdict.startswith("fits")
    assert report.presets[1].verdict == "likely fits"
    text = format_report(report)
    assert f"torch {torch.__version__}" in text and "GiB free" in text


def test_a_cuda_device_without_cuda_is_reported_unusable_with_the_fix(tmp_path: Path) -> None:
    config = config_from_dict({
        "data_dir": str(tmp_path), "default_preset": "wan",
        "worker": {"devices": ["cuda:0"]},
        "presets": {"wan": {"model": WAN.model, "family": "wan", "dtype": "bfloat16"}},
    })
    report = examine(config)
    assert not report.devices[0].usable
    assert "sees no CUDA GPU" in report.devices[0].problem
    [wan] = report.presets
    assert wan.verdict == "cannot run: cuda:0 is unusable"
    assert wan.weights_from == "not downloaded; sizes from the model card"
    # What it would take on common cards, from the model card's sizes.
    assert wan.on_cards["80 GB"] == "fits as set"
    assert "offload" in wan.on_cards["12 GB"]


def test_wan_13b_needs_offload_on_a_12_gb_card_and_fits_a_24_gb_one() -> None:
    weights = Weights(KNOWN_PARAMETERS[WAN.model])
    small = estimate(WAN, weights, 11.5 * GIB, accelerator=True)
    assert not small.fits
    assert small.advice == 'set offload = "group" and vae_tiling = true'
    assert estimate(WAN, weights, 23 * GIB, accelerator=True).fits


def test_fp8_weights_and_offload_lower_the_estimate() -> None:
    weights = Weights({"transformer": 10e9, "text_encoder": 5e9, "vae": 0.2e9})
    plain = PresetConfig(dtype="bfloat16", frames=49, width=720, height=480)
    needs = {
        name: estimate(preset, weights, 1000 * GIB, accelerator=True).need_bytes
        for name, preset in {
            "plain": plain,
            "fp8": replace(plain, fp8_weights=True),
            "model": replace(plain, offload="model"),
            "group": replace(plain, offload="group"),
        }.items()
    }
    assert needs["plain"] > needs["model"] > needs["group"]
    # fp8 storage halves the transformer: 10 GB less than bfloat16.
    assert needs["plain"] - needs["fp8"] == 10e9
    # The weights alone: 15.2e9 parameters in bfloat16.
    assert needs["plain"] > 30.4e9


def test_a_local_folder_is_measured_from_its_safetensors_headers(tmp_path: Path) -> None:
    folder = ensure_builtin_model("tiny-wan", tmp_path)
    weights = folder_weights(folder)
    assert set(weights.parameters) == {"transformer", "text_encoder", "vae"}
    from diffusers import WanTransformer3DModel

    transformer = WanTransformer3DModel.from_pretrained(folder / "transformer")
    assert weights.parameters["transformer"] == sum(p.numel() for p in transformer.parameters())


def test_the_command_prints_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--data-dir", str(tmp_path), "doctor", "--json"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    report = json.loads(done.stdout)
    assert report["torch"] == torch.__version__
    assert [p["name"] for p in report["presets"]] == ["demo", "tiny"]


#: Peaks an H200 measured (GiB; bfloat16, 10 steps, random weights of the real transformer
#: and VAE configurations, a 2-layer text encoder of the real width): the calibration.
MEASURED = {
    "wan": (81, 832, 480, {"transformer": 1.419e9, "text_encoder": 1.436e9, "vae": 0.1269e9},
            8.1),
    "ltx": (121, 768, 512, {"transformer": 1.9234e9, "text_encoder": 0.5175e9,
                            "vae": 0.4192e9}, 9.6),
    "cogvideox": (49, 720, 480, {"transformer": 1.6938e9, "text_encoder": 0.5175e9,
                                 "vae": 0.2156e9}, 19.4),
}


#: And Wan with offload = "group", VAE tiling and fp8 weights: 1.7 GiB.
LOW_MEMORY = {"offload": "group", "vae_tiling": True, "fp8_weights": True}


@pytest.mark.parametrize(("family", "options", "peak_gib"), [
    ("wan", {}, 8.1), ("wan", LOW_MEMORY, 1.7), ("ltx", {}, 9.6), ("cogvideox", {}, 19.4)])
def test_the_estimates_of_measured_families_are_at_most_10_percent_above_the_peak(
    family: str, options: dict[str, object], peak_gib: float
) -> None:
    frames, width, height, parameters, _ = MEASURED[family]
    preset = PresetConfig(family=family, dtype="bfloat16", frames=frames, width=width,
                          height=height, max_frames=frames, max_pixels=width * height,
                          **options)
    estimated = peak_bytes(preset, Weights(parameters), accelerator=True) / GIB
    assert peak_gib <= estimated <= 1.10 * peak_gib, estimated


def test_cogvideox_2b_does_not_fit_a_12_gb_card_as_set() -> None:
    """Its VAE decode is most of its peak: the old rule of thumb said 7.6 GiB ("fits")."""
    cog = PresetConfig(family="cogvideox", dtype="bfloat16", frames=49, width=720, height=480,
                       max_frames=49, max_pixels=720 * 480)
    weights = Weights(KNOWN_PARAMETERS["THUDM/CogVideoX-2b"])
    small = estimate(cog, weights, 11.5 * GIB, accelerator=True)
    assert not small.fits and small.need_bytes > 19 * GIB
    assert estimate(replace(cog, vae_tiling=True), weights, 23 * GIB, accelerator=True).fits


def test_doctor_says_which_estimates_are_unmeasured_and_what_a_cache_needs(
    tmp_path: Path,
) -> None:
    presets = {
        "wan": {"model": WAN.model, "family": "wan", "dtype": "bfloat16", "cache": "mag"},
        "ltx": {"model": "Lightricks/LTX-Video", "family": "ltx", "dtype": "bfloat16",
                "cache": "mag"},
        "hunyuan": {"model": "hunyuanvideo-community/HunyuanVideo", "family": "hunyuan",
                    "dtype": "bfloat16"},
    }
    config = config_from_dict({"data_dir": str(tmp_path), "default_preset": "wan",
                               "presets": presets})
    advice = {preset.name: " ".join(preset.advice) for preset in examine(config).presets}
    assert "unmeasured" not in advice["wan"] and "unmeasured" not in advice["ltx"]
    assert "unmeasured: no GPU has measured the hunyuan family" in advice["hunyuan"]
    assert "calibrated on Wan 2.1 T2V 1.3B" in advice["wan"]
    assert "needs magnitude ratios calibrated for this model" in advice["ltx"]


def test_taylorseer_counts_the_outputs_it_keeps() -> None:
    weights = Weights(KNOWN_PARAMETERS[WAN.model])
    plain = estimate(WAN, weights, 1000 * GIB, accelerator=True).need_bytes
    forecast = estimate(replace(WAN, cache="taylorseer"), weights, 1000 * GIB,
                        accelerator=True).need_bytes
    # Two copies of three outputs of 30 blocks, per guidance pass, of 32,760 tokens x 1536.
    assert forecast - plain > 30 * GIB
