"""The audio side of a model (tower + heads) run by ONNX Runtime on the CPU.

On a CPU the audio tower costs four fifths of embedding a track; ONNX Runtime runs the same
graph, exported from the loaded weights, in less CPU time than torch's eager kernels
(tests/bench/bench_embed_runtime.py). The graph takes the log-mel windows, which the model's
own torch front-end still computes (identical for training and inference), and returns the
L2-normalised window vectors. It is exported when an embedder first needs it and kept in a
cache folder (nothing fetched); where onnxruntime or the exporter is missing, or an
architecture does not export, the caller keeps the torch model. Opening a cached graph needs
neither the model nor the exporter: the model's log-mel front-end alone feeds it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)
from torch import nn

from engine.atomic_files import atomic_output

log = logging.getLogger(__name__)

# The opset the legacy exporter writes; ONNX Runtime has run it for years.
OPSET = 17
INPUT, OUTPUT = "mel", "vector"
_ENGINE = Path(__file__).resolve().parent
# The code a graph is traced through: a cached graph is used only with the same code.
_TRACED_SOURCES = ("audio_graph.py", "audio_model.py", "model.py", "heads.py", "towers/*.py")


class _MelToVector(nn.Module):
    """log-mel windows [B, n_mels, T] -> unit-norm joint-space vectors [B, D]."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_audio_mel(mel), dim=-1)


def export_audio_graph(model: Any, target: str | Any) -> None:
    """Write the ONNX graph of ``model``'s audio tower and heads to a path or a binary file.

    The window length is fixed (the model's ``clip_samples``), the batch is not.

    Raises:
        Exception: whatever the exporter raises for a model it cannot export.
    """
    frames = model.cfg.frontend.clip_samples // model.cfg.frontend.hop_length + 1
    example = torch.zeros(2, model.cfg.frontend.n_mels, frames)
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        # The TorchScript exporter warns that it is deprecated and that shapes become
        # constants: both intended here (one window length per model).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _MelToVector(model).eval(),
            (example,),
            target,
            dynamo=False,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: "windows"}, OUTPUT: {0: "windows"}},
            opset_version=OPSET,
        )


def graph_file_name(model_id: str) -> str:
    """The cache file name of a model's graph: its weights' id and the exporting code's."""
    digest = hashlib.sha256(f"{OPSET} {torch.__version__}".encode())
    for pattern in _TRACED_SOURCES:
        for source in sorted(_ENGINE.glob(pattern)):
            digest.update(source.read_bytes())
    return f"{model_id}-{digest.hexdigest()[:16]}.onnx"


class AudioGraph:
    """An ONNX Runtime session over a model's exported audio graph."""

    def __init__(self, graph: bytes, threads: int = 1) -> None:
        """Open a session on ``graph`` (the bytes of an ONNX model) with ``threads`` threads."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads that spin while waiting for work would steal the decode threads' cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            graph, options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def cached(cls, cache: str | os.PathLike[str], threads: int = 1) -> AudioGraph | None:
        """Open the graph stored in ``cache`` (a file named by :func:`graph_file_name`).

        None when there is none, it does not open (a damaged or foreign file: the caller
        exports it again and replaces it), or onnxruntime is not installed.
        """
        if not Path(cache).is_file() or not _have_onnxruntime():
            return None
        try:
            return cls(Path(cache).read_bytes(), threads)
        except Exception as exc:  # a damaged or foreign file: export again
            log.warning("exporting the audio graph again: %s does not open (%s)", cache, exc)
            return None

    @classmethod
    def of_model(
        cls, model: Any, threads: int = 1, cache: str | os.PathLike[str] | None = None
    ) -> AudioGraph | None:
        """Export ``model`` and open it, or None (logged) where that is not possible here.

        With ``cache``, the exported graph is stored there for the next process, which opens
        it with :meth:`cached` instead of exporting (about 1.4 s, most of it importing the
        exporter).
        """
        if not _have_onnxruntime():
            log.info("onnxruntime is not installed: the audio tower runs in torch")
            return None
        buffer = io.BytesIO()
        try:
            export_audio_graph(model, buffer)
            graph = cls(buffer.getvalue(), threads)
        except Exception as exc:  # any exporter or runtime failure: torch still works
            log.warning("the audio tower runs in torch: ONNX export failed (%s)", exc)
            return None
        if cache is not None:
            _store(Path(cache), buffer.getvalue())
        return graph

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        """Unit-norm vectors float32 [B, D] of log-mel windows [B, n_mels, T]."""
        feed = {INPUT: np.ascontiguousarray(mel, dtype=np.float32)}
        return self._session.run([OUTPUT], feed)[0]


def _store(cache: Path, graph: bytes) -> None:
    """Keep an exported graph for the next process; a cache that cannot be written is skipped."""
    try:
        with atomic_output(cache, "wb") as out:
            out.write(graph)
    except OSError as exc:
        log.info("the audio graph is not cached (%s): the next run exports it again", exc)


def _have_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401 (only to know it is there)
    except ImportError:
        return False
    return True
