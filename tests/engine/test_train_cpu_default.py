"""On a CPU, slapdesk-train trains the heads on cached features unless told --full."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import engine.device
from engine.config import SlapCfg, TrainCfg
from engine.model import build_model
from engine.train import CPU_MODEL, device_default, main
from slapdesk.library.demo.audio_files import make_track

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MANIFEST_CFG = TrainCfg(manifest=["m.csv"], device="cpu")


def test_cpu_without_flags_freezes_pretrained_towers_and_says_so() -> None:
    cfg, note = device_default(MANIFEST_CFG, model_named=False, full=False)
    assert (cfg.model, cfg.freeze_text, cfg.freeze_audio_encoder) == (CPU_MODEL, True, True)
    assert note == (
        "no GPU: training the heads only, on cached features of slapdesk-default's frozen "
        "audio and text towers; --full trains the towers too (slow on a CPU)"
    )


def test_full_a_resume_or_a_gpu_keep_the_configuration() -> None:
    assert device_default(MANIFEST_CFG, model_named=False, full=True) == (MANIFEST_CFG, "")
    resumed = TrainCfg(device="cpu", resume="latest")
    assert device_default(resumed, model_named=False, full=False) == (resumed, "")


def test_a_gpu_run_trains_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    # This machine has no GPU: resolve_device answers as it does where torch sees one.
    monkeypatch.setattr(engine.device, "resolve_device", lambda _device: torch.device("cuda"))
    gpu = TrainCfg(manifest=["m.csv"], device="auto")
    assert device_default(gpu, model_named=False, full=False) == (gpu, "")


def test_an_audio_tower_from_scratch_still_trains_on_a_cpu() -> None:
    named = TrainCfg(manifest=["m.csv"], device="cpu", model="slap_test")
    cfg, note = device_default(named, model_named=True, full=False)
    assert (cfg.model, cfg.freeze_text, cfg.freeze_audio_encoder) == ("slap_test", True, False)
    assert "slap_test's audio tower starts from random weights, so it trains too" in note


def test_the_musicnn_pair_starts_from_the_packaged_taggers_so_it_stays_frozen() -> None:
    # slapdesk-distil names no "weights": the pair's own parameters default to both taggers.
    named = TrainCfg(manifest=["m.csv"], device="cpu", model="slapdesk-distil")
    cfg, note = device_default(named, model_named=True, full=False)
    assert (cfg.freeze_text, cfg.freeze_audio_encoder) == (True, True)
    assert note.startswith("no GPU: training the heads only, on cached features of "
                           "slapdesk-distil's frozen audio and text towers")


@pytest.mark.parametrize(
    ("name", "params", "pretrained"),
    [
        ("musicnn", {}, True),  # the constructor's default: the packaged MSD tagger
        ("musicnn", {"weights": None}, False),
        ("musicnn-pair", {"msd_weights": None, "mtt_weights": None}, False),
        ("musicnn-pair", {"msd_weights": None}, True),  # the MTT half is still trained
        ("cnn-small", {}, False),
        ("no-such-tower", {}, False),
    ],
)
def test_starts_pretrained_reads_each_towers_weight_parameters(
    name: str, params: dict, pretrained: bool
) -> None:
    from engine.config import AudioEncoderCfg
    from engine.towers.registry import starts_pretrained

    assert starts_pretrained(AudioEncoderCfg(name=name, params=params)) is pretrained
    assert starts_pretrained(AudioEncoderCfg(name=name, params=params, init_from="x.pt"))


@pytest.mark.slow
def test_a_manifest_run_on_the_cpu_trains_only_the_heads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = ["audio,caption"]
    for i in range(8):
        make_track(tmp_path / f"t{i}", "wav", freq_hz=110.0 * (i + 1), seconds=3.5)
        rows.append(f"t{i}.wav,a {'low' if i < 4 else 'high'} tone number {i}")
    manifest = tmp_path / "m.csv"
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    args = ["--manifest", str(manifest), "--steps", "3", "--batch-size", "4", "--device", "cpu",
            "--workers", "0", "--val-fraction", "0", "--no-progress", "--out", str(out)]
    with caplog.at_level(logging.INFO, logger="engine.train"):
        assert main(args) == 0
    assert sum("no GPU: training the heads only" in r.getMessage() for r in caplog.records) == 1

    config = json.loads((out / "bundle" / "config.json").read_text())
    assert config["model"]["name"] == CPU_MODEL
    assert config["external_weights"] == {"text_encoder.": "packaged:minilm"}  # text untouched
    trained = load_file(str(out / "bundle" / "model.safetensors"))
    fresh = build_model(SlapCfg.from_name(CPU_MODEL), with_target=False).online_state_dict()
    tower = [k for k in trained if k.startswith("audio_encoder.")]
    assert tower and all(torch.equal(trained[k], fresh[k]) for k in tower)
    steps = [r for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
             if r["kind"] == "step"]
    assert [r["step"] for r in steps] == [1, 2, 3]
