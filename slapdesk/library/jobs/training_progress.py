"""How a training run is evaluated and how far along it is, without Qt.

``evaluation_plan`` picks the held-out share and the evaluation cadence from the number of
clips (``slapdesk-train --auto-eval`` applies it; the training panel asks for it), and
``StepClock`` turns the step records a run writes into "step 12 of 60" and an ETA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Fewer held-out clips than this and R@10 says little: with 10 candidates every query "hits".
MIN_HELD_OUT = 20
HELD_OUT_SHARE = 0.1  # share of the clips held out when there are plenty
MAX_HELD_OUT = 500  # more makes every evaluation slower and the figures barely steadier
EVALUATIONS_PER_RUN = 10  # points on the held-out retrieval plot


@dataclass(frozen=True)
class EvalPlan:
    """The held-out split and evaluation cadence of one run."""

    val_fraction: float  # share of clips held out (0: none, so no evaluation at all)
    eval_every: int  # optimizer steps between evaluations (0: only at the end)
    held_out: int  # clips in the held-out set
    note: str  # one sentence for the log and the panel


def evaluation_plan(clips: int, steps: int) -> EvalPlan:
    """Hold out enough clips for retrieval figures that mean something, evaluate ~10 times.

    Args:
        clips: usable clips in the training data (tracks with captions).
        steps: optimizer steps the run will take.

    Returns:
        No held-out split at all when ``clips`` is too small for one (a model evaluated on a
        handful of clips would look perfect), else about 10% of the clips (20 at least, 500 at
        most) and an evaluation every tenth of the run.
    """
    if clips < 3 * MIN_HELD_OUT:
        return EvalPlan(0.0, 0, 0, (
            f"{clips} clips are too few to hold some out ({3 * MIN_HELD_OUT} needed): "
            "the model is not evaluated"))
    held_out = min(MAX_HELD_OUT, max(MIN_HELD_OUT, round(clips * HELD_OUT_SHARE)))
    every = evaluation_cadence(steps)
    cadence = "every step" if every == 1 else f"every {every} steps"
    return EvalPlan(held_out / clips, every, held_out, (
        f"holding out {held_out} of {clips} clips; evaluating {cadence}"))


def evaluation_cadence(steps: int) -> int:
    """Optimizer steps between evaluations: about ``EVALUATIONS_PER_RUN`` in a run."""
    return max(1, math.ceil(steps / EVALUATIONS_PER_RUN))


class StepClock:
    """Steps done, steps to go and the time left, from step records as they arrive.

    The rate is measured from the first step seen, so the time spent before training starts
    (loading, caching features) does not count as time per step, nor do the earlier steps of a
    resumed run, read all at once.
    """

    def __init__(self, total: int) -> None:
        """A run of ``total`` optimizer steps."""
        self.total = max(int(total), 1)
        self.step = 0
        self._first: tuple[float, int] | None = None
        self._last: tuple[float, int] | None = None

    def observe(self, step: int, now: float) -> None:
        """A step record for ``step`` arrived at ``now`` (seconds, any monotonic clock)."""
        self.step = max(self.step, int(step))
        # Records read together (a resumed run's earlier steps, a backlog) are one moment.
        if self._first is None or now == self._first[0]:
            self._first = (now, int(step))
        self._last = (now, int(step))

    @property
    def fraction(self) -> float:
        """Share of the run done, 0..1."""
        return min(self.step / self.total, 1.0)

    def eta_seconds(self) -> float | None:
        """Seconds to the last step at the rate so far (None until two steps were seen)."""
        if self._first is None or self._last is None:
            return None
        (t0, s0), (t1, s1) = self._first, self._last
        if s1 <= s0 or t1 <= t0:
            return None
        return (t1 - t0) / (s1 - s0) * max(self.total - self.step, 0)

    def describe(self) -> str:
        """E.g. "Step 12 of 60 · about 2 min left"."""
        text = f"Step {self.step:,} of {self.total:,}"
        eta = self.eta_seconds()
        return text if eta is None else f"{text} · {format_duration(eta)} left"


def format_duration(seconds: float) -> str:
    """A time left as people say it: "less than a minute", "about 4 min", "about 1 h 20 min"."""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
