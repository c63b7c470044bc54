"""Check the PyTorch musicnn port (engine.towers.musicnn) against the original TensorFlow model.

Run from the repository root with SlapDesk's venv; the original runs in a second, throwaway
venv holding musicnn + TensorFlow (see tools/convert_musicnn.py), called as a subprocess::

    .venv/bin/python tools/check_musicnn_port.py --tf-python /tmp/tfvenv/bin/python

(add ``--write-reference tests/data/musicnn_reference.npz`` to regenerate the test reference).

On generated signals (piano-like notes, a drum pattern, chords, noise) and, when installed,
real recordings from Debian packages, it prints max |Δ| between:
1. the model alone: the port fed exactly the spectrogram patches that musicnn's own
   ``extractor`` fed TensorFlow (taggram and every feature the extractor returns);
2. the front-end: engine.audio (PyAV decode + LogMel) vs musicnn's librosa log-mel;
3. end to end: our decode + LogMel + port vs the extractor's taggram.
``--write-reference`` also stores TF outputs for two fixed patches as the test reference
(tests/data/musicnn_reference.npz, read by tests/engine/test_musicnn.py without TF).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

SR = 16_000
PATCH = 187
MODELS = {"MSD_musicnn": "msd_musicnn", "MTT_musicnn": "mtt_musicnn"}
FEATURES = ("timbral", "temporal", "cnn1", "cnn2", "cnn3", "max_pool", "mean_pool", "penultimate")
# Real recordings from Debian packages not reserved for validation (corpus.recordings.RESERVED).
REAL = (
    "/usr/share/planetblupi/music/music000.ogg",
    "/usr/share/hyperrogue/music/hr3-crossroads.ogg",
)
REAL_SECONDS = 30.0


# ----------------------------------------------------------------- generated signals


def _notes(freqs: list[float], seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Piano-like notes: 8 decaying harmonics with a hammer click, one note per 0.5 s."""
    t = np.arange(int(0.5 * SR)) / SR
    out = []
    for i in range(int(seconds / 0.5)):
        f = freqs[i % len(freqs)]
        note = sum(np.sin(2 * np.pi * f * k * t) * np.exp(-t * (2 + k)) / k for k in range(1, 9))
        note[:40] += rng.normal(0, 0.3, 40)
        out.append(note)
    return np.concatenate(out)


def _drums(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A 120 bpm rock beat: kick on 1 and 3, snare on 2 and 4, closed hi-hat on eighths."""
    beat = SR // 2
    n = int(seconds * SR)
    out = np.zeros(n + SR)
    t = np.arange(beat) / SR
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 12)
    snare = (
        rng.normal(0, 1, beat) * np.exp(-t * 25) * 0.6
        + np.sin(2 * np.pi * 190 * t) * np.exp(-t * 20) * 0.4
    )
    hat = np.diff(rng.normal(0, 1, beat + 1)) * np.exp(-t * 80) * 0.25
    for b in range(int(seconds * 2)):
        start = b * beat
        out[start : start + beat] += kick if b % 2 == 0 else snare
        out[start : start + beat] += hat
        out[start + beat // 2 : start + beat // 2 + beat // 2] += hat[: beat // 2]
    return out[:n]


def _chords(seconds: float) -> np.ndarray:
    """A I-vi-IV-V progression of sawtooth-like pads, two seconds per chord."""
    roots = [261.63, 220.0, 174.61, 196.0]
    t = np.arange(2 * SR) / SR
    env = np.minimum(1, t * 8) * np.minimum(1, (2 - t) * 8)
    out = []
    for i in range(int(seconds / 2)):
        r = roots[i % 4]
        chord = sum(
            np.sin(2 * np.pi * r * ratio * k * t) / k for ratio in (1, 1.26, 1.5) for k in (1, 2, 3)
        )
        out.append(chord * env)
    return np.concatenate(out)


def generated_signals(seconds: float = 9.0) -> dict[str, np.ndarray]:
    """Deterministic test signals (float64, peak 0.5)."""
    rng = np.random.default_rng(0)
    signals = {
        "piano_notes": _notes([261.63, 329.63, 392.0, 523.25, 392.0, 329.63], seconds, rng),
        "drum_pattern": _drums(seconds, rng),
        "chords": _chords(seconds),
        "pink_noise": _pink(seconds, rng),
    }
    return {k: 0.5 * v / np.abs(v).max() for k, v in signals.items()}


def _pink(seconds: float, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(0, 1, int(seconds * SR)))
    spectrum /= np.sqrt(np.arange(spectrum.size) + 1.0)
    return np.fft.irfft(spectrum, int(seconds * SR))


def frontend_probe() -> np.ndarray:
    """3 s closed-form signal (two partials + a chirp) whose librosa log-mel the test stores."""
    t = np.arange(3 * SR) / SR
    chirp = np.sin(2 * np.pi * (100 * t + 600 * t**2))
    return 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 1250 * t) + 0.2 * chirp


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """16-bit mono WAV (both sides then read identical samples)."""
    data = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(data.tobytes())


# ----------------------------------------------------------------- TensorFlow side


def tf_worker(request_path: Path, out_path: Path) -> None:
    """Run the original musicnn (runs in the TF venv; no torch, no SlapDesk imports)."""
    import librosa
    from musicnn import configuration, extractor

    configuration.BATCH_SIZE = 10**6  # one batch: the extractor's multi-batch loop mislabels cnn*
    request = json.loads(request_path.read_text())
    out: dict[str, np.ndarray] = {}
    for i, path in enumerate(request["files"]):
        batch, _ = extractor.batch_data(path, PATCH, PATCH)
        out[f"{i}/patches"] = batch.astype(np.float32)  # [P, 187, 96] exactly what TF is fed
        audio, sr = librosa.load(path, sr=SR)
        mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=256, n_fft=512, n_mels=96)
        out[f"{i}/mel_f32"] = np.log10(10000 * mel + 1).astype(np.float32)  # [96, T], no fp16 cast
        for model in request["models"]:
            taggram, _, feats = extractor.extractor(path, model=model, extract_features=True)
            out[f"{i}/{model}/taggram"] = taggram
            for name in FEATURES:
                out[f"{i}/{model}/{name}"] = feats[name].reshape(batch.shape[0], -1)
    reference = request.get("reference")
    if reference:
        mel = librosa.feature.melspectrogram(
            y=frontend_probe().astype(np.float32), sr=SR, hop_length=256, n_fft=512, n_mels=96
        )
        out["reference/librosa_mel"] = np.log10(10000 * mel + 1).astype(np.float32)
        patches = np.load(reference)["mel"].astype(np.float32)  # [N, 96, 187]
        for model in request["models"]:
            for name, value in _tf_run(model, patches.transpose(0, 2, 1)).items():
                out[f"reference/{model}/{name}"] = value
    np.savez(out_path, **out)


def _tf_run(model: str, patches: np.ndarray) -> dict[str, np.ndarray]:
    """Run musicnn's own graph (models.define_model) and checkpoint on given [N, T, 96] patches."""
    import musicnn
    import tensorflow as tf
    from musicnn import models

    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, patches.shape[1], 96])
        training = tf.compat.v1.placeholder(tf.bool)
        y, *feats = models.define_model(x, training, model, 50)
    names = ["timbral", "temporal", "cnn1", "cnn2", "cnn3", "mean_pool", "max_pool", "penultimate"]
    with tf.compat.v1.Session() as sess:
        tf.compat.v1.train.Saver().restore(sess, os.path.dirname(musicnn.__file__) + f"/{model}/")
        values = sess.run([tf.nn.sigmoid(y), *feats], feed_dict={x: patches, training: False})
    result = {"tags": values[0]}
    result.update(
        {n: v.reshape(patches.shape[0], -1) for n, v in zip(names, values[1:], strict=True)}
    )
    return result


# ----------------------------------------------------------------- PyTorch side


def _port_outputs(net, patches: np.ndarray) -> dict[str, np.ndarray]:
    """Port features for [P, 96, 187] patches, flattened per patch like the TF side."""
    import torch

    with torch.inference_mode():
        feats = net.features(torch.from_numpy(patches))
    out = {k: v.transpose(1, 2) if v.dim() == 3 else v for k, v in feats.items()}
    return {k: v.reshape(v.shape[0], -1).numpy() for k, v in out.items()}


def _top(tags: np.ndarray, names: list[str], k: int = 5) -> str:
    order = np.argsort(-tags)[:k]
    return ", ".join(f"{names[i]} {tags[i]:.2f}" for i in order)


def compare(files: list[Path], labels: list[str], tf_out: dict[str, np.ndarray], models: list[str]):
    """Print the max |Δ| tables and the top tags; return the worst model-only Δ."""
    import torch

    from engine.audio import LogMel, load_audio
    from engine.towers.musicnn import MusicnnEncoder, musicnn_frontend_cfg, tag_names

    logmel = LogMel(musicnn_frontend_cfg())
    nets = {m: MusicnnEncoder(weights=f"packaged:{MODELS[m]}") for m in models}
    worst, scale = 0.0, dict.fromkeys(FEATURES, 0.0)
    print("\n1. model only (same input patches):  max |Δ| port vs TF")
    print(f"{'signal':<16}{'model':<13}{'taggram':>10}" + "".join(f"{n:>12}" for n in FEATURES))
    for i, label in enumerate(labels):
        patches = tf_out[f"{i}/patches"].transpose(0, 2, 1).copy()
        for m in models:
            port = _port_outputs(nets[m], patches)
            row = [np.abs(port["tags"] - tf_out[f"{i}/{m}/taggram"]).max()]
            row += [np.abs(port[n] - tf_out[f"{i}/{m}/{n}"]).max() for n in FEATURES]
            for n in FEATURES:
                scale[n] = max(scale[n], float(np.abs(tf_out[f"{i}/{m}/{n}"]).max()))
            # Pass/fail on the outputs a tower returns; intermediate maps are reported only.
            worst = max(
                worst,
                row[0],
                row[-1],
                *(r / scale[n] for r, n in zip(row[1:], FEATURES, strict=True)),
            )
            print(f"{label:<16}{m:<13}" + "".join(f"{v:>10.2e}  " for v in row))
    print(f"{'max |TF value|':<41}" + "".join(f"{scale[n]:>10.1f}  " for n in FEATURES))
    print("\n2. front-end: engine.audio (PyAV + soxr + LogMel) vs musicnn's librosa log-mel")
    print(f"{'signal':<16}{'vs float32 mel':>16}{'vs fp16-cast mel (fed to TF)':>32}")
    mels = {}
    for i, (path, label) in enumerate(zip(files, labels, strict=True)):
        wav = torch.from_numpy(load_audio(path, SR))
        with torch.inference_mode():
            mel = logmel(wav[None])[0].numpy()
        mels[i] = mel
        ref = tf_out[f"{i}/mel_f32"]
        n = min(mel.shape[1], ref.shape[1])
        cast = tf_out[f"{i}/patches"].transpose(0, 2, 1)
        cast = np.concatenate(list(cast), axis=1)
        d32 = np.abs(mel[:, :n] - ref[:, :n]).max()
        d16 = np.abs(mel[:, : cast.shape[1]] - cast).max()
        print(f"{label:<16}{d32:>16.2e}{d16:>32.2e}   (frames {mel.shape[1]} vs {ref.shape[1]})")
    print("\n3. end to end (our decode + LogMel + port vs musicnn extractor): max |Δ| taggram")
    for i, label in enumerate(labels):
        count = tf_out[f"{i}/patches"].shape[0]
        ours = np.stack([mels[i][:, p * PATCH : (p + 1) * PATCH] for p in range(count)])
        for m in models:
            tags = _port_outputs(nets[m], ours)["tags"]
            d = np.abs(tags - tf_out[f"{i}/{m}/taggram"]).max()
            print(f"{label:<16}{m:<13}{d:>10.2e}")
    print("\n4. top tags (port, mean over patches)")
    for m in models:
        names = tag_names(f"packaged:{MODELS[m]}")
        for i, label in enumerate(labels):
            tags = _port_outputs(nets[m], tf_out[f"{i}/patches"].transpose(0, 2, 1).copy())["tags"]
            print(f"{m:<13}{label:<16}{_top(tags.mean(0), names)}")
    return worst


def reference_patches(signals: dict[str, np.ndarray]) -> np.ndarray:
    """Two fixed 187-frame patches (piano notes, drums) as float16 log-mel [2, 96, 187]."""
    import torch

    from engine.audio import LogMel
    from engine.towers.musicnn import musicnn_frontend_cfg

    logmel = LogMel(musicnn_frontend_cfg())
    wav = np.stack([signals["piano_notes"], signals["drum_pattern"]]).astype(np.float32)
    with torch.inference_mode():
        mel = logmel(torch.from_numpy(wav))[:, :, :PATCH].numpy()
    # float16 storage keeps the file small; both sides are fed the same rounded values.
    return mel.astype(np.float16)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tf-python",
        default=os.environ.get("MUSICNN_TF_PYTHON"),
        help="python of a venv with musicnn 0.1.0 + tensorflow + librosa "
        "(default: $MUSICNN_TF_PYTHON; see tools/convert_musicnn.py for the venv)",
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--audio",
        nargs="*",
        type=Path,
        default=None,
        help="real recordings to add (default: a few from Debian packages)",
    )
    parser.add_argument("--write-reference", type=Path, default=None)
    parser.add_argument("--tf-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.tf_worker and not args.tf_python:
        parser.error("give --tf-python (or set MUSICNN_TF_PYTHON): a venv with TF musicnn")
    return args


def _write_inputs(
    tmp: Path, signals: dict[str, np.ndarray], real: list[Path]
) -> tuple[list[Path], list[str]]:
    """The generated signals and excerpts of real recordings as WAV files both sides read."""
    from engine.audio import load_audio

    files, labels = [], []
    for name, samples in signals.items():
        write_wav(tmp / f"{name}.wav", samples, SR)
        files.append(tmp / f"{name}.wav")
        labels.append(name)
    for path in (p for p in real if p.is_file()):
        # A 30 s excerpt at 44.1 kHz: both sides then resample the same samples.
        samples = load_audio(path, 44_100)[: int(REAL_SECONDS * 44_100)]
        write_wav(tmp / f"{path.stem}.wav", samples, 44_100)
        files.append(tmp / f"{path.stem}.wav")
        labels.append(path.stem[:15])
    return files, labels


def _write_reference(target: Path, mel_file: Path, tf_out: dict, models: list[str]) -> None:
    ref = {
        "mel": np.load(mel_file)["mel"],
        # 32 frames in float32 (at float16 the rounding alone would be 2e-4).
        "probe_librosa_mel": tf_out["reference/librosa_mel"][:, 60:92],
    }
    for m in models:
        for name in ("tags", "penultimate", "max_pool", "mean_pool"):
            ref[f"{MODELS[m]}/{name}"] = tf_out[f"reference/{m}/{name}"].astype(np.float32)
    np.savez_compressed(target, **ref)
    print(f"\nreference written: {target}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parse_args(argv)
    if args.tf_worker:
        tf_worker(*args.tf_worker)
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        signals = generated_signals()
        real = args.audio if args.audio is not None else [Path(p) for p in REAL]
        files, labels = _write_inputs(tmp, signals, real)
        request = {"files": [str(f) for f in files], "models": args.models}
        if args.write_reference:
            np.savez_compressed(tmp / "ref_in.npz", mel=reference_patches(signals))
            request["reference"] = str(tmp / "ref_in.npz")
        (tmp / "request.json").write_text(json.dumps(request))
        worker = [args.tf_python, __file__, "--tf-worker", str(tmp / "request.json")]
        subprocess.run(
            [*worker, str(tmp / "tf.npz")],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tf_out = dict(np.load(tmp / "tf.npz"))
        worst = compare(files, labels, tf_out, args.models)
        if args.write_reference:
            _write_reference(args.write_reference, tmp / "ref_in.npz", tf_out, args.models)
    print(
        f"\nworst model-only error (taggram, penultimate: absolute; others: relative to max"
        f" |TF value|): {worst:.2e}"
    )
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
