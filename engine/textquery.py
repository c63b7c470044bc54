"""Text queries without torch or transformers: the text tower and head of a bundle, in numpy.

A search box, a tag vocabulary and a query on the command line only embed text. Importing
torch and transformers and building the whole model costs seconds; this path reads the
tokenizer with ``tokenizers``, the weights with ``safetensors.numpy`` (the text tower, its
projector and predictor; never the audio tower) and runs them in numpy. It serves BERT text
towers (the packaged MiniLM, BERT folders, random-init test towers); for any other tower
:func:`load_text_embedder` falls back to :class:`engine.inference.Embedder`. Vectors equal
the torch path's within float32 tolerance (the tests compare both).

The bundle's model id is taken from its ``config.json``, not recomputed: recomputing it means
hashing every weight, the audio tower's included. Loading the bundle for embedding audio
checks it.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from engine.bundle_info import WEIGHTS_FILE, BundleError, BundleInfo, read_bundle_info
from engine.numpy_bert import BertSpec, NumpyBert, layer_norm, linear
from engine.text_source import MissingModelError, resolve_text_source

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# nn.LayerNorm's default epsilon, which the projector and predictor use.
HEAD_NORM_EPS = 1e-5
TEXT_TOWER_PREFIX = "text_encoder.model."
TOKENIZER_FILE = "tokenizer.json"
_BLAS_LIMIT_LOCK = threading.Lock()
RECENT_QUERIES = 64  # single texts whose vectors are kept (searches typed again or re-run)


@functools.cache
def _blas_controller() -> Any:
    """The process's BLAS libraries, found once.

    Finding them walks every loaded library: milliseconds of interpreter time per query, in
    the window's process too.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class TextEmbedder(Protocol):
    """What text-only callers need from a model: lean (:class:`TextQueryEncoder`) or torch."""

    model_id: str

    @property
    def dim(self) -> int:
        """Size of the vectors."""
        ...

    def embed_text(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-norm float32 vectors [N, dim], one per string."""
        ...


class UnsupportedTowerError(Exception):
    """The bundle's text tower is not one this path runs (the torch path still can)."""


# safetensors dtype -> numpy (little-endian, as the format stores them).
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
           "I8": "i1", "U8": "u1", "BOOL": "?"}


def _read_arrays(path: Path, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Named arrays of a safetensors file (aliases of tied weights resolved).

    Read with ``readinto``, which lets go of the interpreter lock while the kernel copies:
    the window loads its text side in a thread, and a reader that copied the 47 MB word
    embeddings holding the lock kept the window's event loop from running for 60-80 ms.
    """
    if not path.is_file():
        raise BundleError(f"{path.name} is missing from {path.parent}")
    out: dict[str, np.ndarray] = {}
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if size > path.stat().st_size:
                raise ValueError("the header is longer than the file")
            header = json.loads(handle.read(size))
            aliases = json.loads(header.pop("__metadata__", {}).get("aliases", "{}"))
            for name in names:
                stored = name if name in header else aliases.get(name)
                if stored in header:
                    out[name] = _read_tensor(handle, 8 + size, header[stored], path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleError(f"{path} is damaged and cannot be read as safetensors: {exc}") from exc
    return out


def _read_tensor(handle: Any, base: int, entry: dict[str, Any], path: Path) -> np.ndarray:
    dtype = _DTYPES.get(entry["dtype"])
    if dtype is None:  # bfloat16 and the like: numpy has no type for them
        raise UnsupportedTowerError(f"{path}: numpy cannot hold {entry['dtype']} weights")
    begin, end = (int(v) for v in entry["data_offsets"])
    data = np.empty(end - begin, np.uint8)
    handle.seek(base + begin)
    if handle.readinto(data.data) != end - begin:
        raise ValueError("the file ends inside a tensor")
    return data.view(dtype).reshape([int(v) for v in entry["shape"]])


def _tower_folder(info: BundleInfo) -> tuple[Path, dict[str, Any]]:
    """Folder with the tokenizer, and the BERT config (a random-init spec or config.json)."""
    text = info.cfg.text
    try:
        if text.random_init is not None:
            spec = {k: v for k, v in text.random_init.items() if k != "seed"}
            return resolve_text_source("packaged:minilm"), spec
        folder = resolve_text_source(text.source)
    except MissingModelError as exc:
        raise BundleError(str(exc)) from exc
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert":
        raise UnsupportedTowerError(f"text tower type {config.get('model_type')!r} is not BERT")
    return folder, config


def _load_tokenizer(folder: Path, max_length: int) -> Tokenizer:
    from tokenizers import Tokenizer

    path = folder / TOKENIZER_FILE
    if not path.is_file():
        raise UnsupportedTowerError(f"{folder} has no {TOKENIZER_FILE}")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


def _tower_weights(info: BundleInfo, folder: Path, spec: BertSpec) -> dict[str, np.ndarray]:
    """The BERT weights: the packaged model's own file when the bundle refers to it."""
    wanted = [*spec.weight_names(), "pooler.dense.weight", "pooler.dense.bias"]
    if "text_encoder." in info.external_weights:
        weights = _read_arrays(folder / WEIGHTS_FILE, [*wanted, *("bert." + n for n in wanted)])
        return {n: weights[n] if n in weights else weights["bert." + n] for n in wanted
                if n in weights or "bert." + n in weights}
    stored = _read_arrays(info.folder / WEIGHTS_FILE, [TEXT_TOWER_PREFIX + n for n in wanted])
    return {n[len(TEXT_TOWER_PREFIX):]: v for n, v in stored.items()}


class _Mlp:
    """A projector or predictor: Linear -> (LayerNorm) -> ReLU -> Linear."""

    def __init__(self, weights: dict[str, np.ndarray], prefix: str) -> None:
        try:
            self.first = (weights[f"{prefix}0.weight"], weights[f"{prefix}0.bias"])
            self.last = (weights[f"{prefix}3.weight"], weights[f"{prefix}3.bias"])
        except KeyError as exc:
            raise BundleError(f"{WEIGHTS_FILE} has no {exc.args[0]}") from exc
        scale, shift = weights.get(f"{prefix}1.weight"), weights.get(f"{prefix}1.bias")
        self.norm = (scale, shift) if scale is not None and shift is not None else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        hidden = linear(x, *self.first)
        if self.norm is not None:
            hidden = layer_norm(hidden, *self.norm, HEAD_NORM_EPS)
        return linear(np.maximum(hidden, 0), *self.last)


class TextQueryEncoder:
    """``embed_text`` of a bundle's text tower + head, in numpy: no torch, no transformers."""

    def __init__(self, tokenizer: Tokenizer, bert: NumpyBert, pooling: str, heads: list[_Mlp],
                 model_id: str, dim: int) -> None:
        """Assemble from loaded parts (use :meth:`from_bundle`)."""
        self.tokenizer = tokenizer
        self.bert = bert
        self.pooling = pooling
        self.heads = heads
        self.model_id = model_id
        self._dim = dim
        # The window embeds the query in its box again after every change to the library (a
        # scan's live refresh, a tag write): each one is tens of ms of interpreter time.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dim(self) -> int:
        """Size of the joint embedding."""
        return self._dim

    @classmethod
    def from_bundle(cls, folder: str | os.PathLike[str]) -> TextQueryEncoder:
        """Read a bundle's text tower and text head.

        Raises:
            UnsupportedTowerError: the text tower is not BERT, or has no ``tokenizer.json``.
            BundleError: a file is missing or damaged.
        """
        info = read_bundle_info(folder)
        text = info.cfg.text
        tower_folder, config = _tower_folder(info)
        try:
            spec = BertSpec.from_config(config)
        except ValueError as exc:
            raise UnsupportedTowerError(str(exc)) from exc
        tokenizer = _load_tokenizer(tower_folder, min(text.max_length, spec.max_positions))
        try:
            bert = NumpyBert(spec, _tower_weights(info, tower_folder, spec))
        except KeyError as exc:
            raise BundleError(f"{info.folder}: {exc.args[0]}") from exc
        prefixes = ["text_projector."] + (["text_predictor."] if info.cfg.objective == "slap"
                                          else [])
        head_weights = _read_arrays(
            info.folder / WEIGHTS_FILE,
            [f"{p}{i}.{part}" for p in prefixes for i in (0, 1, 3) for part in ("weight", "bias")],
        )
        heads = [_Mlp(head_weights, prefix) for prefix in prefixes]
        return cls(tokenizer, bert, text.pooling, heads, info.model_id, info.cfg.head.embed_dim)

    def _tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encodings = self.tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        return ids, mask

    def embed_text(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed captions or queries -> float32 [N, D], unit norm, in order."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        single = texts[0] if len(texts) == 1 else None
        hit = self._recent.get(single) if single is not None else None
        if hit is not None:
            return hit[None, :].copy()
        # One BLAS thread: these products are small, and BLAS threads that wait for each
        # other on busy cores (an embedding job, other programs) made one query 10-40x slower.
        # The limit is process-wide: the lock keeps concurrent queries from restoring it wrongly.
        with _BLAS_LIMIT_LOCK, _blas_controller().limit(limits=1, user_api="blas"):
            vectors = self._embed(texts, batch_size)
            if single is not None:
                self._recent[single] = vectors[0].copy()
                while len(self._recent) > RECENT_QUERIES:
                    self._recent.popitem(last=False)
        return vectors

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            ids, mask = self._tokens(texts[start : start + batch_size])
            vectors = self.bert.pooled(ids, mask, self.pooling)
            for head in self.heads:
                vectors = head(vectors)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out.append(vectors / np.maximum(norms, 1e-12))
        return np.concatenate(out).astype(np.float32, copy=False)


def load_text_embedder(folder: str | os.PathLike[str], device: str | None = None) -> TextEmbedder:
    """The cheapest way to embed text with a bundle: numpy when it can, else torch.

    Args:
        folder: the bundle folder.
        device: None or "cpu" allow the numpy path; any other device asks for torch.

    Raises:
        BundleError: the bundle is missing, damaged or inconsistent.
    """
    if device in (None, "cpu"):
        try:
            return TextQueryEncoder.from_bundle(folder)
        except UnsupportedTowerError:
            pass  # a tower the numpy path does not run: torch can
    from engine.inference import Embedder

    return Embedder.from_bundle(folder, device=device)
