"""Training-panel helpers without Qt: the trainer's command line, devices, metrics tail.

The panel runs ``slapdesk-train`` as a subprocess with the argv built here, lists the devices
this machine offers, and tails the run's ``metrics.jsonl`` as it grows.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_REPO_ROOT = Path(__file__).resolve().parents[3]  # a checkout's root (engine/ beside slapdesk/)

SOURCES = ("library", "manifest", "synthetic")
# The trainer lowers its own priority by this much when the variable is set (the window sets it).
NICE_ENV = "SLAPDESK_NICE"
TRAIN_NICENESS = 10


@dataclass(frozen=True)
class TrainOptions:
    """One training run as the panel describes it."""

    out: Path  # run folder (checkpoints, metrics.jsonl, bundle/)
    source: str = "library"  # library | manifest | synthetic
    library: Path | None = None  # library file, for source "library"
    manifest: Path | None = None  # CSV/JSONL of audio,caption, for source "manifest"
    synthetic: int = 64  # generated clips, for source "synthetic"
    model: str = ""  # config name in engine/model_configs; "": the trainer's (heads only on CPU)
    objective: str = "slap"  # slap | clap
    init: Path | None = None  # bundle to fine-tune (None: train from the config)
    batch_size: int = 16  # micro-batch per device
    accumulate: int = 1  # micro-batches per optimizer step
    steps: int = 200  # optimizer steps
    lr: float | None = None  # None: the trainer's default
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    eval_every: int | None = None  # steps between evaluations; None: chosen from the data size
    freeze_text: bool = True  # cache the text tower (much faster on CPU)
    workers: int | None = None  # decode processes; None: the trainer's default, 0: in-process
    resume: bool = False  # continue the stopped run in ``out`` (its checkpoint decides the rest)

    def problems(self) -> list[str]:
        """What must be fixed before the run can start (empty when it can)."""
        found = []
        if self.resume:
            return [] if (self.out / "checkpoints").is_dir() else [f"{self.out} has no checkpoint"]
        if self.source not in SOURCES:
            found.append(f"unknown source {self.source!r}")
        if self.source == "library" and not (self.library and self.library.is_file()):
            found.append("the library has no tracks yet: scan a folder first")
        if self.source == "manifest" and not (self.manifest and self.manifest.is_file()):
            found.append("choose a manifest file (CSV or JSONL with audio and caption)")
        if self.batch_size < 1 or self.accumulate < 1 or self.steps < 1:
            found.append("batch size, accumulation and steps must be at least 1")
        return found


def train_command(options: TrainOptions, python: str = sys.executable) -> list[str]:
    """The argv that runs ``slapdesk-train`` for ``options`` (as ``python -m slapdesk.train``)."""
    if options.resume:  # where to run is all a resumed run takes from the command line
        argv = [python, "-m", "slapdesk.train", "--out", str(options.out), "--resume",
                "--device", options.device, "--no-progress"]
        return argv + (["--workers", str(options.workers)] if options.workers is not None else [])
    argv = [python, "-m", "slapdesk.train", "--out", str(options.out),
            "--objective", options.objective, "--batch-size", str(options.batch_size),
            "--accumulate", str(options.accumulate), "--steps", str(options.steps),
            "--device", options.device, "--no-progress"]
    if options.model:
        argv += ["--model", options.model]
    if options.eval_every is None:
        argv.append("--auto-eval")
    else:
        argv += ["--eval-every", str(options.eval_every)]
    if options.source == "library":
        argv += ["--library", str(options.library)]
    elif options.source == "manifest":
        argv += ["--manifest", str(options.manifest)]
    else:
        argv += ["--synthetic", str(options.synthetic)]
    if options.init is not None:
        argv += ["--init", str(options.init)]
    if options.lr is not None:
        argv += ["--lr", repr(options.lr)]
    if options.freeze_text:
        argv.append("--freeze-text")
    if options.workers is not None:
        argv += ["--workers", str(options.workers)]
    return argv


def train_environment() -> dict[str, str]:
    """Variables the trainer process gets on top of this process's environment."""
    # Unbuffered, so the panel's log shows lines as they come; offline, because nothing may
    # ever be fetched from a model hub at run time; no progress bars (the panel draws its own,
    # and a library's carriage-return bar reads as garbage in a log).
    # A lower CPU priority, as the window's worker process has: the run is background work,
    # and at equal priority its threads kept the window's event loop waiting for a core.
    return {"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TQDM_DISABLE": "1", NICE_ENV: str(TRAIN_NICENESS)}


def train_workdir(options: TrainOptions) -> Path:
    """Where the trainer runs: a checkout's root (so ``-m engine.train`` finds it), else the run."""
    return _REPO_ROOT if (_REPO_ROOT / "engine").is_dir() else options.out


def model_config_names() -> list[str]:
    """Architectures a user can train (the JSON files in ``engine/model_configs``).

    The ``*_test`` configurations are tiny random models for the engine's own tests: they
    train nothing a user could search with, so they are not offered.
    """
    folder = _REPO_ROOT / "engine" / "model_configs"
    try:
        import engine

        folder = Path(engine.__file__).resolve().parent / "model_configs"
    except ImportError:
        pass
    return sorted(p.stem for p in folder.glob("*.json") if not p.stem.endswith("_test"))


@dataclass(frozen=True)
class DeviceChoice:
    """One entry of the device menu."""

    value: str  # what --device gets
    label: str  # what the user reads, e.g. "cuda:0 — NVIDIA H100 80GB HBM3 (79.1 GiB)"


_ASK_TORCH = (
    "import json, os, sys\n"
    # Importing torch takes a core for seconds: at a lower priority, the window keeps it.
    f"os.nice({TRAIN_NICENESS}) if hasattr(os, 'nice') else None\n"
    "from slapdesk.library.jobs.training import _torch_devices\n"
    "json.dump([list(d) for d in _torch_devices()], sys.stdout)\n"
)


def available_devices() -> list[DeviceChoice]:
    """Auto, CPU, and every CUDA / MPS device torch sees.

    Asked in a child process unless this one has imported torch already: importing torch
    holds the interpreter lock for over a second, which froze the window (1.6 s measured).
    """
    choices = [DeviceChoice("auto", "Automatic (best available)"), DeviceChoice("cpu", "CPU")]
    if "torch" in sys.modules:
        return choices + _torch_devices()
    import subprocess

    try:
        done = subprocess.run([sys.executable, "-c", _ASK_TORCH], capture_output=True,
                              text=True, timeout=120, check=True,
                              cwd=_REPO_ROOT if (_REPO_ROOT / "slapdesk").is_dir() else None)
        found = [DeviceChoice(str(v), str(label)) for v, label in json.loads(done.stdout)]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("cannot list the devices torch sees: %s", exc)
        return choices
    return choices + found


def _torch_devices() -> list[DeviceChoice]:
    """Every CUDA / MPS device torch sees (imports torch)."""
    choices: list[DeviceChoice] = []
    try:
        import torch
    except ImportError:
        return choices
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            memory = props.total_memory / 2**30
            choices.append(DeviceChoice(f"cuda:{index}",
                                        f"cuda:{index} — {props.name} ({memory:.1f} GiB)"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        choices.append(DeviceChoice("mps", "Apple GPU (MPS)"))
    return choices


class MetricsTail:
    """Reads the records appended to a ``metrics.jsonl`` since the last call.

    A line still being written (no newline yet) waits for the next call; a line that is not
    JSON is skipped with a log entry, never an exception.
    """

    def __init__(self, path: Path) -> None:
        """Follow ``path`` (it may not exist yet)."""
        self.path = Path(path)
        self._offset = 0
        self._partial = b""

    def read_new(self) -> list[dict[str, Any]]:
        """New complete records, in file order."""
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, 2)
                if size < self._offset:  # truncated (a resumed run rewrote it): start over
                    self._offset, self._partial = 0, b""
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        records = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                log.warning("%s: skipping a line that is not JSON", self.path)
                continue
            if isinstance(record, dict):
                records.append(record)
        return records
