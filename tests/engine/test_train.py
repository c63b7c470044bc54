"""slapdesk-train end to end on CPU: short runs of the tiny "slap_test" model on toy tones."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.bundle import load_bundle
from engine.config import TrainCfg
from engine.train import main, run_train
from engine.training_checkpoint import latest_checkpoint
from slapdesk.library.demo.audio_files import make_track

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# --full: these tests train the towers on the CPU, as a GPU run would.
FAST = ["--model", "slap_test", "--device", "cpu", "--full", "--workers", "0", "--no-progress"]


def _records(out: Path, kind: str = "step") -> list[dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def _losses(out: Path) -> list[float]:
    return [r["loss"] for r in _records(out)]


def test_synthetic_run_writes_a_loadable_bundle(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--synthetic", "32", "--steps", "2", "--accumulate", "2", "--batch-size", "4"]
    assert main([*args, "--val-max", "8", "--out", str(out), *FAST]) == 0
    steps = _records(out)
    assert [r["step"] for r in steps] == [1, 2]
    first = steps[0]
    assert set(first["terms"]) == {"a2t", "t2a", "a2a", "t2t"}
    assert first["tau"] == 0.95
    assert first["samples_per_s"] > 0
    assert first["peak_mem_bytes"] > 10_000_000
    (evaluation,) = _records(out, "eval")
    assert evaluation["step"] == 2
    assert 0.0 <= evaluation["t2a_R@1"] <= evaluation["t2a_R@10"] <= 1.0
    assert evaluation["n_audio"] == 8.0
    assert latest_checkpoint(out / "checkpoints").name == "step-000002.json"
    bundle = load_bundle(out / "bundle", device="cpu")
    assert bundle.info.cfg.name == "slap_test"
    assert "32 generated toy tones" in (out / "bundle" / "model_card.md").read_text()
    assert "t2a_R@10" in (out / "bundle" / "model_card.md").read_text()

    # Fine-tuning starts from the bundle's weights and architecture.
    tuned = tmp_path / "tuned"
    args = ["--synthetic", "32", "--steps", "1", "--batch-size", "4", "--val-fraction", "0"]
    assert main([*args, "--init", str(out / "bundle"), "--out", str(tuned), *FAST[2:]]) == 0
    before = load_file(str(out / "bundle" / "model.safetensors"))
    after = load_file(str(tuned / "bundle" / "model.safetensors"))
    assert before.keys() == after.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and len(changed) < len(before)  # trained, from the same start
    assert "initialised from" in (tuned / "bundle" / "model_card.md").read_text()
    clap = ["--init", str(out / "bundle"), "--objective", "clap", "--out", str(tmp_path / "x")]
    assert main([*args, *clap, *FAST[2:]]) == 1


def test_loss_goes_down_on_the_toy_task(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["--synthetic", "64", "--steps", "30", "--batch-size", "16", "--freeze-text"]
    args += ["--lr", "1e-3", "--warmup-steps", "3", "--val-fraction", "0"]
    assert main([*args, "--out", str(out), *FAST]) == 0
    losses = _losses(out)
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    assert not (out / "bundle" / "model_card.md").read_text().count("t2a_R@10")


class _StopAfter(threading.Event):
    """A cancel event that reads as set from the n-th check on (a SIGINT at a known step)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n <= 0


def _cfg(out: Path, **changes: object) -> TrainCfg:
    base = TrainCfg(
        model="slap_test",
        synthetic=32,
        steps=6,
        batch_size=4,
        accumulate=2,
        val_fraction=0.0,
        device="cpu",
        workers=0,
        progress=False,
        out=str(out),
        checkpoint_every=0,
        warmup_steps=2,
        lr=1e-3,
    )
    return TrainCfg(**{**base.to_dict(), **changes})


def test_resume_repeats_an_uninterrupted_run(tmp_path: Path) -> None:
    # Text tower trained (dropout) and SpecAugment on: every RNG stream matters here.
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run_train(_cfg(whole)) == 0
    assert run_train(_cfg(split), cancel=_StopAfter(3)) == 130  # "SIGINT" after step 3
    assert latest_checkpoint(split / "checkpoints").name == "step-000003.json"
    assert not (split / "bundle").exists()
    # The command line needs nothing but the run folder: the rest comes from the checkpoint.
    resume = ["--out", str(split), "--resume", "--device", "cpu", "--workers", "0"]
    assert main([*resume, "--no-progress", "--batch-size", "4"]) == 0
    assert _losses(split) == _losses(whole)
    assert [r["step"] for r in _records(split)] == [1, 2, 3, 4, 5, 6]
    a = load_file(str(whole / "bundle" / "model.safetensors"))
    b = load_file(str(split / "bundle" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_accumulation_matches_the_large_batch(tmp_path: Path) -> None:
    common = dict(synthetic=96, steps=3, freeze_text=True, spec_augment=False, grad_clip=0.0)
    big, accumulated = tmp_path / "big", tmp_path / "acc"
    assert run_train(_cfg(big, batch_size=32, accumulate=1, **common)) == 0
    assert run_train(_cfg(accumulated, batch_size=8, accumulate=4, **common)) == 0
    assert _losses(accumulated) == pytest.approx(_losses(big), rel=1e-5)
    a = load_file(str(big / "bundle" / "model.safetensors"))
    b = load_file(str(accumulated / "bundle" / "model.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)


def test_clap_objective_runs(tmp_path: Path) -> None:
    out = tmp_path / "clap"
    assert run_train(_cfg(out, objective="clap", steps=2, freeze_text=True)) == 0
    steps = _records(out)
    assert set(steps[0]["terms"]) == {"a2t", "t2a"}
    assert steps[0]["tau"] is None
    assert steps[0]["temperature"] == pytest.approx(0.07, rel=0.05)
    assert load_bundle(out / "bundle", device="cpu").info.cfg.objective == "clap"


def test_bad_manifest_rows_are_reported_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    audio = tmp_path / "audio"
    audio.mkdir()
    rows = ["audio,caption"]
    for i in range(6):
        make_track(audio / f"t{i}", "wav", freq_hz=220.0 * (i + 1), seconds=1.5)
        rows.append(f"audio/t{i}.wav,a tone number {i}")
    (audio / "broken.mp3").write_bytes(b"\xff\xfb" + b"garbage" * 200)
    rows += ["audio/missing.wav,gone", "audio/t0.wav,", "audio/broken.mp3,noise"]
    manifest = tmp_path / "train.csv"
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    args = ["--manifest", str(manifest), "--steps", "2", "--batch-size", "7", "--val-fraction"]
    with caplog.at_level(logging.WARNING):
        code = main([*args, "0", "--out", str(out), *FAST[:-3], "--workers", "1", "--no-progress"])
    assert code == 0
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{manifest}: row 8: audio file not found" in messages
    assert f"{manifest}: row 9: empty caption" in messages
    assert "broken.mp3: row 10: cannot decode" in messages
    assert (out / "bundle" / "config.json").is_file()

    # The eval subcommand scores the bundle on the same manifest (bad rows skipped).
    assert (
        main(
            [
                "eval",
                str(out / "bundle"),
                "--manifest",
                str(manifest),
                "--device",
                "cpu",
                "--workers",
                "0",
            ]
        )
        == 0
    )
    figures = json.loads(capsys.readouterr().out)
    assert figures["n_audio"] == 6.0
    assert figures["skipped"] == 3
    assert 0.0 <= figures["linear_separability"] <= 1.0


def test_frozen_audio_encoder_trains_only_the_heads(tmp_path: Path) -> None:
    from engine.config import SlapCfg
    from engine.model import build_model

    out = tmp_path / "heads"
    cfg = _cfg(out, steps=3, freeze_text=True, freeze_audio_encoder=True, val_fraction=0.5)
    cfg = TrainCfg(**{**cfg.to_dict(), "val_max": 6})
    assert run_train(cfg) == 0
    torch.manual_seed(cfg.seed)
    fresh = build_model(SlapCfg.from_name("slap_test")).online_state_dict()
    trained = load_file(str(out / "bundle" / "model.safetensors"))
    encoder = [k for k in fresh if k.startswith(("audio_encoder.", "text_encoder."))]
    heads = [k for k in fresh if k.startswith("audio_projector.")]
    assert encoder and heads
    assert all(torch.equal(trained[k], fresh[k]) for k in encoder)
    assert not all(torch.equal(trained[k], fresh[k]) for k in heads)
    assert _records(out, "eval")[0]["n_audio"] == 6.0


@pytest.mark.gpu
@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_cuda_mixed_precision_run(tmp_path: Path, amp: str) -> None:
    out = tmp_path / amp
    args = ["--synthetic", "64", "--steps", "4", "--accumulate", "2", "--batch-size", "8"]
    args += ["--model", "slap_test", "--device", "cuda", "--amp", amp, "--workers", "2"]
    assert main([*args, "--val-max", "8", "--no-progress", "--out", str(out)]) == 0
    steps = _records(out)
    assert all(r["peak_mem_bytes"] > 0 and not r["skipped"] for r in steps)
    assert load_bundle(out / "bundle", device="cpu").info.cfg.name == "slap_test"


def test_manifest_weights_repeat_clips_within_each_epoch(tmp_path: Path) -> None:
    from collections import Counter

    from engine.trainer import Trainer

    audio = tmp_path / "audio"
    audio.mkdir()
    rows = []
    for i in range(6):
        make_track(audio / f"t{i}", "wav", freq_hz=220.0 * (i + 1), seconds=1.5)
        rows.append(json.dumps({"audio": f"audio/t{i}.wav", "caption": f"tone {i}",
                                **({"weight": 3} if i == 0 else {})}))
    manifest = tmp_path / "train.jsonl"
    manifest.write_text("\n".join(rows) + "\n")
    cfg = _cfg(tmp_path / "run", synthetic=0, manifest=(str(manifest),), batch_size=4)
    trainer = Trainer(cfg)
    assert trainer.micro_per_epoch == 2  # 8 draws: clip 0 three times, the others once
    batches = trainer._micro_batches()
    seen = Counter(int(i) for _ in range(2) for i in next(batches)["index"])
    assert seen == {0: 3, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
