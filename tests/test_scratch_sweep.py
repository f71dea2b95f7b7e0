"""A worker SIGKILLed while it writes a clip, poster or preview leaves its scratch file
(`.job-N-aK….part`); the next attempt of that job removes it, and touches nothing else."""

from __future__ import annotations

from pathlib import Path

from generator.clip_folder import sweep_earlier_attempts


def test_the_next_attempt_removes_only_earlier_attempts_scratch_files(tmp_path: Path) -> None:
    stale = [".job-7-a1.mp4.1a2b3c4d.part", ".job-7-a1.jpg.0f0f0f0f.part",
             ".job-7-a2-preview.jpg.deadbeef.part"]
    kept = [".job-7-a3.mp4.12345678.part",  # the current attempt's own, being written
            ".job-70-a1.mp4.12345678.part",  # another job whose number starts alike
            ".job-8-a1.mp4.12345678.part",  # another job
            "job-7-a1.mp4", "job-7-a1.jpg",  # whole files are retention's, not this sweep's
            ".probe-123-abcd"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x")

    assert sweep_earlier_attempts(tmp_path, 7, 3) == len(stale)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert sweep_earlier_attempts(tmp_path, 7, 3) == 0


def test_a_missing_folder_is_nothing_to_sweep(tmp_path: Path) -> None:
    assert sweep_earlier_attempts(tmp_path / "absent", 1, 2) == 0
