"""`videobot doctor` on this CPU machine, and the memory estimate behind its advice."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from generator.backends.tiny_models import ensure_builtin_model
from generator.doctor import examine, format_report
from generator.memory_estimate import GIB, KNOWN_PARAMETERS, Weights, estimate, folder_weights
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
