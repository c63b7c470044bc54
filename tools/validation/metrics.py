"""The suite's figures from clip vectors: zero-shot per task, query precision@5, auto-tagging.

Every function takes unit-norm clip vectors [N, D] (rows in manifest order), the rows' labels
and the model's text embedder, so the same code scores any bundle.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from slapdesk.library.autotag.scoring import build_classifier, propose
from slapdesk.library.autotag.vocabulary import load_vocabulary
from tools.validation.queries import QUERIES, is_relevant
from tools.zeroshot_eval import INSTRUMENT_TERMS, classify

TextEmbedder = Callable[[list[str]], np.ndarray]

GENRE_TERMS: dict[str, tuple[str, ...]] = {
    "soundtrack": ("soundtrack",),
    "electronic": ("electronic", "techno", "house"),
}
# The app's genre terms a grounded genre accepts (a proposal of any of them is right).
GENRE_ACCEPTS: dict[str, frozenset[str]] = {
    "soundtrack": frozenset({"soundtrack"}),
    "electronic": frozenset({"electronic", "techno", "house"}),
    "house": frozenset({"house", "electronic"}),
    "techno": frozenset({"techno", "electronic"}),
    "latin": frozenset({"latin"}),
    "blues": frozenset({"blues"}),
    "hip hop": frozenset({"hip hop"}),
}
# The app's instrument terms an instrument family accepts.
INSTRUMENT_ACCEPTS: dict[str, frozenset[str]] = {
    family: frozenset(terms) | ({"percussion"} if family == "drums" else set())
    for family, terms in INSTRUMENT_TERMS.items()
}
DEFAULT_THRESHOLD = 0.15  # slapdesk.library.autotag's default
DEFAULT_TOP_K = 3


def grounded_genres(labels: dict) -> set[str]:
    """Genres the package metadata or the sample's name state for a clip."""
    found = set()
    if labels.get("genre"):
        found.add(labels["genre"])
    found |= {s for s in labels.get("styles", ()) if s in GENRE_ACCEPTS}
    return found


def zero_shot(vectors: np.ndarray, rows: list[dict], embed_text: TextEmbedder) -> list[dict]:
    """Instrument family (samples) and genre (single-genre clips) zero-shot reports."""
    reports = []
    fam = [(i, r["labels"].get("instrument_family")) for i, r in enumerate(rows)]
    fam = [(i, f) for i, f in fam if f in INSTRUMENT_TERMS]
    present = {f for _, f in fam}
    classes = {k: v for k, v in INSTRUMENT_TERMS.items() if k in present}
    reports.append(classify(vectors[[i for i, _ in fam]], [f for _, f in fam],
                            "instrument_family", classes, embed_text))
    genre = []
    for i, r in enumerate(rows):
        found = grounded_genres(r["labels"]) & set(GENRE_TERMS)
        if len(found) == 1:
            genre.append((i, found.pop()))
    reports.append(classify(vectors[[i for i, _ in genre]], [g for _, g in genre], "genre",
                            GENRE_TERMS, embed_text))
    return reports


def query_precision(vectors: np.ndarray, rows: list[dict], embed_text: TextEmbedder,
                    k: int = 5) -> list[dict]:
    """Precision@k of each fixed query over the whole pool.

    With fewer than ``k`` relevant clips the best possible top k cannot be all relevant, so
    precision is hits / min(k, relevant): 1.0 means the ranking is as good as it can be.
    """
    texts = [q.text for q in QUERIES]
    q = np.asarray(embed_text(texts), dtype=np.float32)
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    scores = q @ vectors.T
    out = []
    for query, row in zip(QUERIES, scores, strict=True):
        relevant = np.array([is_relevant(query, r["labels"]) for r in rows])
        top = np.argsort(-row, kind="stable")[:k]
        hits = int(relevant[top].sum())
        best = min(k, int(relevant.sum()))
        out.append({"query": query.text, "relevant": int(relevant.sum()), "hits": hits,
                    "precision": hits / best if best else float("nan"),
                    "top": [rows[i]["audio"] for i in top]})
    return out


def _app_proposals(vectors: np.ndarray, heard: np.ndarray, embed_text: TextEmbedder,
                   threshold: float, top_k: int) -> dict[str, list[list]]:
    """Per vocabulary, the proposals of every clip as the app makes them for a library.

    As ``slapdesk.library.autotag.proposals``: clips marked at embedding time as holding
    nothing to describe get none and stay out of the calibration statistics.
    """
    out: dict[str, list[list]] = {}
    for name in ("genre", "instrument", "mood"):
        found = iter(propose(build_classifier(load_vocabulary(name), embed_text),
                             vectors[heard], top_k=top_k, threshold=threshold))
        out[name] = [next(found) if h else [] for h in heard]
    return out


def autotag(vectors: np.ndarray, rows: list[dict], embed_text: TextEmbedder,
            threshold: float = DEFAULT_THRESHOLD, top_k: int = DEFAULT_TOP_K,
            abstain: list[str | None] | None = None) -> dict:
    """The app's auto-tag proposals at ``threshold`` against the grounded labels.

    Calibration is fitted on the pool, as the app fits it on a library. Precision counts a
    proposal right only when the labels state it, so it is a lower bound (labels are
    incomplete: a game track proposed "orchestral" may well be orchestral). ``nonmusic``
    lists the proposals made for the silence / noise / tone controls (should be none) and
    ``abstained`` what the embedder marked (``abstain``: per clip, None for music).
    """
    abstain = abstain or [None] * len(rows)
    heard = np.array([a is None for a in abstain], dtype=bool)
    proposals = _app_proposals(vectors, heard, embed_text, threshold, top_k)
    report: dict = {"threshold": threshold, "top_k": top_k}
    for name, truth_of in (("genre", _genre_truth), ("instrument", _instrument_truth)):
        proposed = right = clips = recalled = 0
        for row, props in zip(rows, proposals[name], strict=True):
            truth = truth_of(row["labels"])
            if not truth:
                continue
            terms = {p.term for p in props}
            clips += 1
            proposed += len(terms)
            right += len(terms & truth)
            recalled += bool(terms & truth)
        report[name] = {"clips": clips, "proposals": proposed,
                        "precision": right / proposed if proposed else float("nan"),
                        "recall": recalled / clips if clips else float("nan")}
    controls = [i for i, r in enumerate(rows) if r["labels"].get("kind") == "nonmusic"]
    report["nonmusic"] = {
        rows[i]["labels"]["control"]: [p.term for name in proposals for p in proposals[name][i]]
        for i in controls
    }
    report["abstained"] = {rows[i]["audio"]: a for i, a in enumerate(abstain) if a}
    return report


def _genre_truth(labels: dict) -> frozenset[str]:
    return frozenset().union(*[GENRE_ACCEPTS[g] for g in grounded_genres(labels)])


def _instrument_truth(labels: dict) -> frozenset[str]:
    return INSTRUMENT_ACCEPTS.get(labels.get("instrument_family", ""), frozenset())
