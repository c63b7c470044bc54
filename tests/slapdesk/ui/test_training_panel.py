"""The training panel through a whole tiny CPU run: steps, ETA, held-out plot, evaluation."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from slapdesk.library.jobs.training import TrainOptions, train_command
from slapdesk.ui.views.training_plots import MEMORY_MIN_TOP_MIB, PLOTS, step_span

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _legend(plot) -> list[str]:
    return [label.text for _sample, label in plot.legend.items]


@pytest.mark.slow
def test_a_tiny_run_shows_steps_held_out_retrieval_and_its_evaluation(
    make_window, qtbot, tmp_path: Path
) -> None:
    window = make_window()
    tab = window.show_tab("training")
    panel, view = tab.controller, tab.view
    run = window.ctx.data_dir / "runs" / "20261203-101500-slap_test"
    options = TrainOptions(out=run, source="synthetic",
                           synthetic=16, model="slap_test", steps=6, batch_size=4, device="cpu",
                           workers=0, freeze_text=False)
    assert panel.start(options)
    # The command line is shown as it runs, interpreter first, so it can be pasted.
    command = shlex.join(train_command(options))
    assert command.startswith(shlex.quote(sys.executable) + " -m slapdesk.train ")
    assert "--auto-eval" in command and "--eval-every" not in command
    assert view.log.toPlainText().splitlines()[0] == "$ " + command
    assert panel.process.processEnvironment().value("TQDM_DISABLE") == "1"
    assert panel.process.processEnvironment().value("SLAPDESK_NICE") == "10"  # yields to the GUI
    assert view.progress.maximum() == 6 and view.progress.value() == 0
    with qtbot.waitSignal(panel.process.finished, timeout=120_000):
        pass
    assert view.status.text().startswith(
        "Finished. The new model “20261203-101500-slap_test” is listed under Models.")
    assert (view.progress.value(), view.progress.maximum(), view.progress.text()) == (
        6, 6, "6 of 6 steps")
    # One held-out evaluation per step (a tenth of 6 steps, rounded up), both directions.
    assert len(panel.points("t2a_R@10")) == 6 and len(panel.points("a2t_R@10")) == 6
    assert _legend(view.plots["retrieval"]) == ["text → audio (R@10)", "audio → text (R@10)"]
    assert view.evaluation.text().startswith("Evaluated on 64 held-out tracks. Text → audio: R@1 ")
    assert view.activate_button.isEnabled()
    # The memory axis starts at zero and is not a zoom into the noise of one flat line.
    peak = max(panel.points("peak_mem_mib"))
    assert view.plots["memory"].viewRange()[1] == pytest.approx([0.0, peak * 1.15])
    assert "|" not in view.log.toPlainText()  # no progress bar drawn into the log
    view.grab().save(str(tmp_path / "training.png"))
    # The trained model is listed under its run's name and can be adopted from the panel.
    view.activate_button.click()
    models = window.show_tab("models").view
    names = [models.list.item(i).text() for i in range(models.list.count())]
    assert names == ["✔ 20261203-101500-slap_test  (trained here)"]
    assert window.ctx.models.describe() == "20261203-101500-slap_test (tiny)"


def test_the_memory_axis_keeps_a_sensible_range(make_window) -> None:
    view = make_window().show_tab("training").view
    view.set_curve("peak_mem_mib", [1, 2, 3], [40.1, 40.2, 40.15])
    assert view.plots["memory"].viewRange()[1] == pytest.approx([0.0, MEMORY_MIN_TOP_MIB])
    view.set_curve("peak_mem_mib", [1, 2, 3], [812.1, 812.3, 812.2])
    assert view.plots["memory"].viewRange()[1] == pytest.approx([0.0, 812.3 * 1.15])


def test_the_default_run_trains_the_heads_on_a_cpu_and_evaluates_itself(make_window) -> None:
    panel = make_window().tab("training").controller
    assert panel.view.model.currentData() == ""  # automatic: no --model, the trainer decides
    options = panel.options()
    argv = train_command(options)
    assert "--model" not in argv and "--auto-eval" in argv and "--freeze-text" in argv
    assert options.out.parent == panel.ctx.data_dir / "runs"
    assert options.out.name.endswith("-trained")
    assert options.init is None  # no usable model here to start from


def test_legends_name_the_series_for_people(make_window) -> None:
    view = make_window().show_tab("training").view
    assert _legend(view.plots["retrieval"]) == ["text → audio (R@10)", "audio → text (R@10)"]
    assert view.plots["speed"].getAxis("left").labelText == "clips/s"


def test_every_plot_shares_the_step_axis(make_window) -> None:
    view = make_window().show_tab("training").view
    view.set_curve("loss", list(range(1, 31)), [2.0 - i / 30 for i in range(30)])
    view.set_curve("t2a_R@10", [30], [0.16])  # the first evaluation: one point
    # Step 30 of a run of unknown length: the axis ends at 50 (1, 2 or 5 times a power of
    # ten), so it is laid out again at steps 51 and 101, not at every poll.
    for key in ("loss", "retrieval", "speed", "memory"):
        assert view.plots[key].viewRange()[0] == pytest.approx([-1.0, 51.0])
    view.set_progress(30, 40)  # a 40-step run: the axis ends with the run
    view.set_curve("loss", list(range(1, 32)), [2.0 - i / 30 for i in range(31)])
    assert view.plots["memory"].viewRange()[0] == pytest.approx([-0.8, 40.8])
    assert [step_span(step) for step in (0, 1, 3, 10, 11, 999)] == [1, 1, 5, 10, 20, 1000]


def test_the_plots_appear_one_per_event_loop_turn_when_first_shown(make_window) -> None:
    window = make_window()
    window.stack.setCurrentWidget(window.splitter)  # the tabs, not the empty library's welcome
    view = window.tab("training").view  # built with the window, not shown yet
    assert view.graphs.hidden_plots() == list(PLOTS)
    window.show_tab("training")
    assert view.isVisible() and view.graphs._revealer.isActive()
    # Each turn of the revealer makes a plot's view, or fills it, or shows a plot built (its
    # first paint, the axes laid out and drawn, then happens on its own turn).
    shown = []
    for _ in range(3 * len(PLOTS)):
        view.graphs._reveal_next_plot()
        shown.append(len(PLOTS) - len(view.graphs.hidden_plots()))
    assert shown[-1] == len(PLOTS) and all(b - a <= 1 for a, b in pairwise(shown))
    assert view.graphs.hidden_plots() == [] and not view.graphs._revealer.isActive()
    assert [view.graphs._widgets[key].isVisible() for key in PLOTS] == [True] * len(PLOTS)
    assert view.plots["loss"].titleLabel.text == "Loss"


@pytest.mark.slow
def test_a_stopped_run_resumes_where_it_stopped(make_window, qtbot, tmp_path: Path) -> None:
    window = make_window()
    tab = window.show_tab("training")
    panel, view = tab.controller, tab.view
    options = TrainOptions(out=tmp_path / "run", source="synthetic", synthetic=16,
                           model="slap_test", steps=40, batch_size=4, device="cpu", workers=0,
                           freeze_text=False, eval_every=0)
    assert not view.resume_button.isVisibleTo(view)
    assert panel.start(options)
    # A step takes ~12 ms here and the panel polls every 500 ms: waiting for the panel alone
    # let the run reach step 40 before Stop (1 run in ~11). So the trainer is frozen
    # (SIGSTOP) once two steps are on disk, the panel catches up, Stop queues its SIGTERM,
    # and the trainer, let go, stops after the step it is in.
    metrics = tmp_path / "run" / "metrics.jsonl"
    qtbot.waitUntil(lambda: metrics.is_file()
                    and metrics.read_text().count('"kind": "step"') >= 2, timeout=120_000)
    pid = panel.process.processId()
    os.kill(pid, signal.SIGSTOP)
    qtbot.waitUntil(lambda: len(panel.points("loss")) >= 2, timeout=10_000)
    with qtbot.waitSignal(panel.process.finished, timeout=60_000):
        panel.stop()
        os.kill(pid, signal.SIGCONT)
    stopped_at = panel._clock.step
    assert 2 <= stopped_at < 40
    assert view.status.text() == (
        f"Stopped at step {stopped_at} of 40; a checkpoint was saved.")
    assert view.resume_button.isVisibleTo(view)
    view.resume_button.click()
    assert view.log.toPlainText().splitlines()[-1].endswith(
        f"--out {tmp_path / 'run'} --resume --device cpu --no-progress --workers 0")
    assert not view.resume_button.isVisibleTo(view)
    with qtbot.waitSignal(panel.process.finished, timeout=120_000):
        pass
    assert (view.progress.value(), view.progress.maximum()) == (40, 40)
    steps = [int(x) for x in panel._series["loss"][0]]
    assert steps == list(range(1, 41))  # one curve, no step twice, none missing
    assert (tmp_path / "run" / "bundle" / "config.json").is_file()


def _drawn(curve) -> list[float]:
    return [] if curve.yData is None else [float(y) for y in curve.yData]


def test_a_poll_draws_its_points_one_plot_per_turn(make_window) -> None:
    view = make_window().show_tab("training").view
    plots = view.graphs
    view.set_progress(12, 200)
    plots.set_curves_soon({"loss": ([1, 2, 12], [2.0, 1.5, 1.2]),
                           "peak_mem_mib": ([1, 2, 12], [300.0, 310.0, 320.0])})
    # Nothing drawn yet: the step axis (0-12 rounds up to 20) and the points wait their turns.
    assert _drawn(view.curves["loss"]) == [] and plots._drawer.isActive()
    plots._draw_next_plot()  # the loss plot, with its new step axis
    assert _drawn(view.curves["loss"]) == [2.0, 1.5, 1.2]
    assert view.plots["loss"].viewRange()[0] == pytest.approx([-0.4, 20.4])
    assert view.plots["memory"].viewRange()[0] == pytest.approx([-0.2, 10.2])  # before a run
    assert _drawn(view.curves["peak_mem_mib"]) == []
    for _ in range(3):  # throughput and retrieval (the axis only), then memory
        plots._draw_next_plot()
    assert _drawn(view.curves["peak_mem_mib"]) == [300.0, 310.0, 320.0]
    assert view.plots["memory"].viewRange() == [pytest.approx([-0.4, 20.4]),
                                                pytest.approx([0.0, 320.0 * 1.15])]
    assert plots._drawer.isActive()  # stops on its next turn, with nothing left to draw
    plots._draw_next_plot()
    assert not plots._drawer.isActive()
    # The next poll's points keep the axis (12 -> 15 stays under 20): only their plot redraws.
    plots.set_curves_soon({"loss": ([1, 2, 12, 15], [2.0, 1.5, 1.2, 1.1])})
    assert plots._stale == set()
    view.flush_curves()
    assert _drawn(view.curves["loss"]) == [2.0, 1.5, 1.2, 1.1] and not plots._pending


def test_before_a_run_the_panel_says_so_and_counts_whole_steps(make_window) -> None:
    view = make_window().show_tab("training").view
    view.graphs.flush()
    assert view.progress.text() == "No run yet"
    assert view.plots["loss"].viewRange()[0] == pytest.approx([-0.2, 10.2])
    view.set_progress(3, 200)
    assert view.progress.text() == "3 of 200 steps"
