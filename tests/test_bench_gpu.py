"""bench/gpu.py, the one GPU script, runs here on tiny random models (no GPU): every row of
its table is measured and printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from generator.backends.full_size import FULL_SIZE_MODELS, full_size_parts
from generator.memory_estimate import KNOWN_PARAMETERS
from tests.processes import ROOT, environment

#: The hub model of each family's full-size build, for its parameter counts.
HUB_MODELS = {"wan": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
              "wan-5b": "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "ltx": "Lightricks/LTX-Video",
              "cogvideox": "THUDM/CogVideoX-2b",
              "hunyuan": "hunyuanvideo-community/HunyuanVideo"}


@pytest.mark.timeout(600)
def test_the_gpu_script_prints_every_row_on_tiny_models(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/gpu.py", "--tiny", "--jobs", "1", "--steps", "2",
         "--models-dir", str(tmp_path / "models")],
        cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout
    for row in ("vanilla diffusers pipeline", "videobot as shipped",
                "with previews every 5 steps", "low memory: group offload, tiling, fp8",
                "1 bare pipeline calls back to back", "videobot worker, 1 jobs end to end",
                "tiny random ltx (CPU) peak", "tiny random cogvideox (CPU) peak"):
        assert row in table, table
    assert "busy" in table and "doctor estimates" in table and "no GPU" in table


@pytest.mark.parametrize("family", sorted(FULL_SIZE_MODELS))
def test_full_size_builds_have_the_real_transformer_and_vae(family: str) -> None:
    """Counted on the meta device: no memory, no weights (the model cards' counts are
    rounded to two or three digits)."""
    parts = full_size_parts(family, "meta")
    known = KNOWN_PARAMETERS[HUB_MODELS[family]]
    for name in ("transformer", "vae"):
        count = sum(p.numel() for p in parts[name].parameters())
        assert abs(count / known[name] - 1) < 0.03, (name, count)
    text = parts["text_encoder"]
    assert text.config.hidden_size == 4096 and text.device == torch.device("meta")
