"""Convert musicnn's TensorFlow checkpoints to safetensors for engine.towers.musicnn (run once).

musicnn (Jordi Pons, Xavier Serra; Music Technology Group, UPF; ISC licence) ships TF1
checkpoints of 50-tag music taggers trained on the Million Song Dataset (MSD) and
MagnaTagATune (MTT). This script reads them with ``tf.compat.v1.train.NewCheckpointReader``
(no graph is built), renames the variables to the PyTorch port's ``state_dict`` keys and lays
the kernels out as PyTorch expects, then writes float32 safetensors (Adam slots dropped), the
tag list and front-end parameters as JSON, and the ISC licence text.

It needs TensorFlow, so it runs in a throwaway venv, never in SlapDesk's own::

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install musicnn==0.1.0 --no-deps
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.15.1 "numpy<2" safetensors
    /tmp/tfvenv/bin/python tools/convert_musicnn.py --out resources/models/musicnn

``tools/check_musicnn_port.py`` then compares the port with the original TF model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import numpy as np

# Output tag lists, copied from musicnn/configuration.py (MSD_LABELS, MTT_LABELS).
MSD_LABELS = [
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
]
MTT_LABELS = [
    "guitar",
    "classical",
    "slow",
    "techno",
    "strings",
    "drums",
    "electronic",
    "rock",
    "fast",
    "piano",
    "ambient",
    "beat",
    "violin",
    "vocal",
    "synth",
    "female",
    "indian",
    "opera",
    "male",
    "singing",
    "vocals",
    "no vocals",
    "harpsichord",
    "loud",
    "quiet",
    "flute",
    "woman",
    "male vocal",
    "no vocal",
    "pop",
    "soft",
    "sitar",
    "solo",
    "man",
    "classic",
    "choir",
    "voice",
    "new age",
    "dance",
    "male voice",
    "female vocal",
    "beats",
    "harp",
    "cello",
    "no voice",
    "weird",
    "country",
    "metal",
    "female voice",
    "choral",
]

MODELS = {
    "MSD_musicnn": {"file": "msd_musicnn", "labels": MSD_LABELS, "dataset": "Million Song Dataset"},
    "MTT_musicnn": {"file": "mtt_musicnn", "labels": MTT_LABELS, "dataset": "MagnaTagATune"},
}

# musicnn's input: librosa.feature.melspectrogram defaults (Hann, centred, power 2, Slaney mel
# scale and area norm, 0 Hz .. sr/2) then log10(1 + 10000 x), cut into 187-frame (3 s) patches.
FRONTEND = {
    "sample_rate": 16000,
    "n_fft": 512,
    "hop_length": 256,
    "win_length": 512,
    "n_mels": 96,
    "f_min": 0.0,
    "f_max": 8000.0,
    "power": 2.0,
    "mel_scale": "slaney",
    "mel_norm": "slaney",
    "log": "log10_1p",
    "log_multiplier": 10000.0,
    "patch_frames": 187,
}

# TF layer name -> port module name, in the order musicnn's models.build_musicnn creates them.
BN_NAMES = {
    "batch_normalization": "input_bn",
    "batch_normalization_1": "timbral74.bn",
    "batch_normalization_2": "timbral77.bn",
    "batch_normalization_3": "temporal128.bn",
    "batch_normalization_4": "temporal64.bn",
    "batch_normalization_5": "temporal32.bn",
    "batch_normalization_6": "mid1.bn",
    "batch_normalization_7": "mid2.bn",
    "batch_normalization_8": "mid3.bn",
    "batch_normalization_9": "pool_bn",
    "batch_normalization_10": "dense_bn",
}
FRONT_CONVS = {  # TF [time, freq, 1, out] -> torch Conv2d [out, 1, time, freq]
    "conv2d": "timbral74.conv",
    "conv2d_1": "timbral77.conv",
    "conv2d_2": "temporal128.conv",
    "conv2d_3": "temporal64.conv",
    "conv2d_4": "temporal32.conv",
}
MID_CONVS = {  # TF [time, channels, 1, out] -> torch Conv1d [out, channels, time]
    "conv2d_5": "mid1.conv",
    "conv2d_6": "mid2.conv",
    "conv2d_7": "mid3.conv",
}
DENSES = {"dense": "dense", "dense_1": "classifier"}  # TF [in, out] -> torch Linear [out, in]

LICENSE_TEXT = """\
The files msd_musicnn.safetensors and mtt_musicnn.safetensors in this folder are the musicnn
models MSD_musicnn and MTT_musicnn (musicnn 0.1.0, https://github.com/jordipons/musicnn),
converted unchanged in value from TensorFlow checkpoints to safetensors by
tools/convert_musicnn.py. musicnn is by Jordi Pons and Xavier Serra (Music Technology Group,
Universitat Pompeu Fabra): "musicnn: pre-trained convolutional neural networks for music audio
tagging", ISMIR 2019 late-breaking/demo. Its licence (ISC) follows.

Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019. Code developed by Jordi Pons (www.jordipons.me).

Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
"""  # noqa: E501


def convert_variables(read: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map TF checkpoint variables (name -> array) to the port's state_dict (name -> array).

    Args:
        read: every non-optimiser variable of one musicnn checkpoint.

    Returns:
        float32 arrays keyed by the PyTorch port's parameter and buffer names.
    """
    out: dict[str, np.ndarray] = {}
    for tf_name, name in BN_NAMES.items():
        out[f"{name}.weight"] = read[f"{tf_name}/gamma"]
        out[f"{name}.bias"] = read[f"{tf_name}/beta"]
        out[f"{name}.running_mean"] = read[f"{tf_name}/moving_mean"]
        out[f"{name}.running_var"] = read[f"{tf_name}/moving_variance"]
    for tf_name, name in FRONT_CONVS.items():
        out[f"{name}.weight"] = read[f"{tf_name}/kernel"].transpose(3, 2, 0, 1)
        out[f"{name}.bias"] = read[f"{tf_name}/bias"]
    for tf_name, name in MID_CONVS.items():
        out[f"{name}.weight"] = read[f"{tf_name}/kernel"][:, :, 0, :].transpose(2, 1, 0)
        out[f"{name}.bias"] = read[f"{tf_name}/bias"]
    for tf_name, name in DENSES.items():
        out[f"{name}.weight"] = read[f"{tf_name}/kernel"].T
        out[f"{name}.bias"] = read[f"{tf_name}/bias"]
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}
    for name in BN_NAMES.values():  # PyTorch's BN counter; unused with frozen statistics
        tensors[f"{name}.num_batches_tracked"] = np.array(0, dtype=np.int64)
    return tensors


def read_checkpoint(folder: Path) -> dict[str, np.ndarray]:
    """Read every model variable (not Adam slots or step counters) of a TF1 checkpoint."""
    import tensorflow as tf

    # musicnn saved its checkpoints with an empty file prefix: "<folder>/.index" etc.
    reader = tf.compat.v1.train.NewCheckpointReader(str(folder) + os.sep)
    names = reader.get_variable_to_shape_map()
    return {
        n: reader.get_tensor(n)
        for n in names
        if "/Adam" not in n and not n.startswith(("beta1_power", "beta2_power"))
    }


def convert(model: str, musicnn_dir: Path, out_dir: Path) -> Path:
    """Convert one musicnn model; return the written safetensors path."""
    from safetensors.numpy import save_file

    spec = MODELS[model]
    variables = read_checkpoint(musicnn_dir / model)
    tensors = convert_variables(variables)
    used = {
        f"{k}/{v}" for k in BN_NAMES for v in ("gamma", "beta", "moving_mean", "moving_variance")
    }
    used |= {f"{k}/{v}" for k in (*FRONT_CONVS, *MID_CONVS, *DENSES) for v in ("kernel", "bias")}
    if set(variables) != used:
        raise SystemExit(f"{model}: unexpected variables {sorted(set(variables) ^ used)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{spec['file']}.safetensors"
    meta = {"source": f"musicnn 0.1.0 {model}", "licence": "ISC", "format": "engine.towers.musicnn"}
    save_file(tensors, str(path), metadata=meta)
    info = {
        "model": model,
        "source": "musicnn 0.1.0 (https://github.com/jordipons/musicnn), ISC licence",
        "authors": "Jordi Pons, Xavier Serra (Music Technology Group, Universitat Pompeu Fabra)",
        "training_data": spec["dataset"],
        "architecture": {
            "n_mels": 96,
            "midend_filters": 64,
            "backend_units": 200,
            "n_classes": len(spec["labels"]),
        },
        "frontend": FRONTEND,
        "tags": spec["labels"],
        "parameters": int(sum(v.size for v in tensors.values() if v.dtype == np.float32)),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    (out_dir / f"{spec['file']}.json").write_text(json.dumps(info, indent=1) + "\n", "utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", type=Path, default=Path("resources/models/musicnn"))
    parser.add_argument(
        "--musicnn-dir",
        type=Path,
        default=None,
        help="folder of the installed musicnn package (default: import it)",
    )
    args = parser.parse_args(argv)
    musicnn_dir = args.musicnn_dir
    if musicnn_dir is None:
        import importlib.util

        found = importlib.util.find_spec("musicnn")
        if found is None or found.origin is None:
            raise SystemExit("musicnn is not installed here: pip install musicnn==0.1.0 --no-deps")
        musicnn_dir = Path(found.origin).parent
    for model in args.models:
        path = convert(model, musicnn_dir, args.out)
        print(f"{model} -> {path} ({path.stat().st_size / 1e6:.2f} MB)")
    (args.out / "LICENSE").write_text(LICENSE_TEXT, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
