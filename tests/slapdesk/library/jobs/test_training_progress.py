"""The held-out split and evaluation cadence a run gets, and the panel's step / ETA line."""

from __future__ import annotations

import pytest

from slapdesk.library.jobs.training_progress import (
    EvalPlan,
    StepClock,
    evaluation_plan,
    format_duration,
)


@pytest.mark.parametrize(
    ("clips", "steps", "fraction", "every", "held_out"),
    [
        (59, 60, 0.0, 0, 0),  # too few: no held-out set, no evaluation
        (60, 60, 20 / 60, 6, 20),  # the minimum: 20 held out
        (240, 60, 0.1, 6, 24),  # 10%
        (240, 5, 0.1, 1, 24),  # a short run still evaluates every step
        (20_000, 200, 500 / 20_000, 20, 500),  # capped at 500
    ],
)
def test_evaluation_plan_holds_out_enough_clips(
    clips: int, steps: int, fraction: float, every: int, held_out: int
) -> None:
    plan = evaluation_plan(clips, steps)
    assert (plan.val_fraction, plan.eval_every, plan.held_out) == pytest.approx(
        (fraction, every, held_out))


def test_evaluation_plan_says_why_there_is_no_evaluation() -> None:
    assert evaluation_plan(12, 60) == EvalPlan(
        0.0, 0, 0, "12 clips are too few to hold some out (60 needed): the model is not evaluated")
    assert evaluation_plan(240, 60).note == (
        "holding out 24 of 240 clips; evaluating every 6 steps")


def test_step_clock_counts_steps_and_estimates_the_time_left() -> None:
    clock = StepClock(60)
    assert clock.describe() == "Step 0 of 60"
    clock.observe(1, now=1000.0)  # the first step: no rate yet (loading time does not count)
    assert clock.eta_seconds() is None
    assert clock.describe() == "Step 1 of 60"
    clock.observe(12, now=1000.0 + 11 * 5.0)  # 5 s per step
    assert clock.fraction == pytest.approx(0.2)
    assert clock.eta_seconds() == pytest.approx(48 * 5.0)
    assert clock.describe() == "Step 12 of 60 · about 4 min left"
    clock.observe(60, now=1000.0 + 59 * 5.0)
    assert clock.describe() == "Step 60 of 60 · less than a minute left"


def test_a_resumed_runs_earlier_steps_do_not_count_towards_the_rate() -> None:
    clock = StepClock(100)
    for step in range(1, 41):  # the steps before the stop, read in one go
        clock.observe(step, now=500.0)
    assert clock.eta_seconds() is None
    clock.observe(42, now=506.0)  # 3 s per step since the resume
    assert clock.eta_seconds() == pytest.approx(58 * 3.0)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "less than a minute"), (59, "less than a minute"), (90, "about 2 min"),
     (3600, "about 1 h"), (4800, "about 1 h 20 min")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
