"""How well a result matches, in words a person can read, calibrated per query.

The fused scores that order results (reciprocal-rank fusion, 0.01-0.03) say nothing on their
own, and raw cosine similarities differ by model and by query ("calm piano" tops at 0.39 and
"abc" at 0.19 on the same library, yet neither is a good match). What tells a real match is
how far a track stands out from the rest of the library for *this* query: a query that
describes some tracks leaves those well above the bulk, one that describes none leaves a
single lump. So each similarity is measured against the library's similarity distribution for
the query, as a robust z-score (distance from the median in units of the scaled median
absolute deviation, which the matching tracks themselves barely move). Measured with the
default model on a 120-track demo library of 8 styles: the top hit of nonsense queries ("abc",
"xyzzy qwerty") sits 1.6-1.7 deviations above the median, of style queries that find their
style ("electronic beat", "ambient pad", "hip hop") 3.7-4.9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Robust z-scores at which a match is called strong / good / fair; below FAIR it is weak, and
# when even the best result is weak the library holds nothing much like the query.
STRONG = 4.0
GOOD = 3.0
FAIR = 2.0
# The median absolute deviation times this estimates the standard deviation of a normal lump.
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class MatchScale:
    """The library's similarity distribution for one query: its median and robust spread."""

    median: float
    spread: float

    @classmethod
    def of(cls, similarities: np.ndarray) -> MatchScale | None:
        """The scale of these similarities (None when there are too few to tell a spread)."""
        values = np.asarray(similarities, dtype=np.float64)
        if values.size < 3:
            return None
        median = float(np.median(values))
        spread = _MAD_TO_SD * float(np.median(np.abs(values - median)))
        if spread <= 1e-9:
            spread = float(values.std())
        return cls(median, spread) if spread > 1e-9 else None

    def z(self, similarity: float) -> float:
        """How many spreads ``similarity`` stands above the library's median."""
        return (similarity - self.median) / self.spread

    def level(self, similarity: float) -> str:
        """"strong", "good", "fair" or "weak"."""
        z = self.z(similarity)
        if z >= STRONG:
            return "strong"
        if z >= GOOD:
            return "good"
        return "fair" if z >= FAIR else "weak"


def match_label(similarity: float | None, metadata_match: bool, scale: MatchScale | None) -> str:
    """The Match column's text: the sound level, "tags" for a tag match, "" for neither.

    Filter-only results and results of a search without vectors have no similarity and no
    tag match: they were not ranked by how they sound, so they get no label.
    """
    sound = scale.level(similarity) if similarity is not None and scale is not None else ""
    if metadata_match:
        return f"{sound} · tags" if sound else "tags"
    return sound


def nothing_close(query: str, labels: list[str]) -> str:
    """The note to show when no result matches well ("" when some result does)."""
    if not labels or any(label and label != "weak" for label in labels):
        return ""
    return f"No track sounds much like “{query.strip()}”; showing the closest."
