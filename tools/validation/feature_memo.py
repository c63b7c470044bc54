"""Memoise a model's audio-tower outputs on disk, keyed by the exact log-mel input.

Candidate models that share a frozen audio tower (every head-only fine-tune of the default
reads the same MSD musicnn) spend nearly all of an evaluation's CPU time recomputing the same
tower outputs. With a memo the tower runs once per distinct input: the key is a hash of the
tower's weights and of the exact bytes, shape and dtype of the log-mel batch it is called
with, so a different tower, clip, window or front-end never reads another's values, and a
memoised evaluation prints what the plain one prints when both run the tower in torch
(the evaluations call the tower with the same batches every time).

The app's embedder runs the whole audio path in ONNX Runtime when it can; a memoised
evaluation runs it in torch (ONNX Runtime cannot call back into the memo), so compare
candidates memoised with each other, and check once that the plain command agrees.

    python -m tools.validation run BUNDLE validation_out --feature-memo runs/memo
    python -m tools.zeroshot_eval BUNDLE corpus_out/eval_zeroshot.jsonl --feature-memo runs/memo
    python -m tools.validation.feature_memo runs/memo eval BUNDLE --manifest M --workers 1
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn


def weights_digest(module: nn.Module) -> str:
    """A hash of a module's parameters and buffers (names, shapes and values)."""
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class Memo:
    """Counts of a memoised tower's calls (``hits`` read from disk, ``misses`` computed)."""

    def __init__(self, folder: Path, digest: str) -> None:
        """Keep outputs under ``folder`` for a tower whose weights hash to ``digest``."""
        self.folder = folder
        self.digest = digest
        self.hits = 0
        self.misses = 0

    def key(self, mel: torch.Tensor) -> str:
        """The file name of one call's output."""
        data = mel.detach().cpu().contiguous()
        h = hashlib.sha256(self.digest.encode())
        h.update(f"{tuple(data.shape)} {data.dtype}".encode())
        h.update(data.numpy().tobytes())
        return h.hexdigest()[:40] + ".npy"

    def call(self, forward: Callable[[torch.Tensor], torch.Tensor], mel: torch.Tensor
             ) -> torch.Tensor:
        """``forward(mel)``, read from the memo when this exact input was seen."""
        path = self.folder / self.key(mel)
        if path.is_file():
            self.hits += 1
            return torch.from_numpy(np.load(path)).to(mel.device)
        out = forward(mel)
        if not isinstance(out, torch.Tensor):  # a tower returning several outputs: no memo
            return out
        self.misses += 1
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.save(f, out.detach().cpu().numpy())
        os.replace(tmp, path)
        return out


def memoise(encoder: nn.Module, folder: str | os.PathLike[str]) -> Memo:
    """Make ``encoder`` read its outputs from ``folder`` when it has seen the input.

    The module's own ``forward`` is wrapped on the instance: its weights, state dict and
    the model id computed from them are untouched. Meant for frozen towers in eval mode.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    memo = Memo(target, weights_digest(encoder))
    forward = encoder.forward
    encoder.forward = lambda mel: memo.call(forward, mel)  # type: ignore[method-assign]
    return memo


def embedder(bundle: str, device: str = "cpu", memo: str | os.PathLike[str] | None = None
             ) -> Any:
    """The app's :class:`engine.inference.Embedder` of ``bundle``.

    With ``memo``, it runs in torch with its audio tower memoised in that folder.
    """
    from engine.inference import Embedder

    if memo is None:
        return Embedder.from_bundle(bundle, device=device)
    out = Embedder.from_bundle(bundle, device=device, runtime="torch")
    memoise(out.model.audio_encoder, memo)
    return out


def _memoised_load_bundle(folder: str | os.PathLike[str]) -> Callable[..., Any]:
    """``engine.bundle.load_bundle`` that memoises the loaded model's audio tower."""
    import engine.bundle

    plain = engine.bundle.load_bundle

    def load(*args: Any, **kwargs: Any) -> Any:
        bundle = plain(*args, **kwargs)
        memoise(bundle.model.audio_encoder, folder)
        return bundle

    return load


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.validation.feature_memo DIR eval BUNDLE ...``: memoised eval."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[1] != "eval":
        sys.stderr.write(__doc__ or "")
        return 2
    import engine.bundle
    from engine import train

    plain = engine.bundle.load_bundle
    engine.bundle.load_bundle = _memoised_load_bundle(args[0])  # type: ignore[assignment]
    try:
        train.setup_logging()
        return train.run_eval(args[2:])
    finally:
        engine.bundle.load_bundle = plain  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main())
