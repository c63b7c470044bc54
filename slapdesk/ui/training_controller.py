"""Runs ``slapdesk-train`` as a QProcess and plots its ``metrics.jsonl`` while it grows."""

from __future__ import annotations

import logging
import os
import shlex
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal, Slot
from PySide6.QtWidgets import QFileDialog

from slapdesk.library.jobs import training
from slapdesk.library.jobs.training import MetricsTail, TrainOptions
from slapdesk.library.jobs.training_progress import StepClock
from slapdesk.library.models import describe_bundle, evaluation_summary
from slapdesk.ui.context import AppContext
from slapdesk.ui.tabs import Tab, register_tab
from slapdesk.ui.tasks import TaskContext
from slapdesk.ui.views.training_plots import PLOTS
from slapdesk.ui.views.training_view import TrainingView

if TYPE_CHECKING:
    from slapdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)
POLL_MS = 500  # how often metrics.jsonl is read while a run is going


def _list_devices(_ctx: TaskContext) -> list[training.DeviceChoice]:
    return training.available_devices()


class TrainingController(QObject):
    """Owns the ``TrainingView``; ``bundle_ready(path)`` when a run wrote its model bundle."""

    bundle_ready = Signal(str)
    activate_requested = Signal(str)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, view: TrainingView, parent: QObject | None = None) -> None:
        """Wire ``view``; device detection (torch import) starts in the background."""
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.process: QProcess | None = None
        self.run_dir: Path | None = None
        self._tail: MetricsTail | None = None
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._manifest: Path | None = None
        self._clock = StepClock(1)
        self._stopped: TrainOptions | None = None  # the run "Resume" continues
        self._started: TrainOptions | None = None  # the run going now
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        view.model.addItem("Automatic (quick on a CPU)", "")
        for name in training.model_config_names():
            view.model.addItem(name, name)
        view.set_devices([training.DeviceChoice("auto", "Automatic (best available)"),
                          training.DeviceChoice("cpu", "CPU")],
                         ctx.settings.value.train_device)
        view.start_button.clicked.connect(self.start)
        view.stop_button.clicked.connect(self.stop)
        view.resume_button.clicked.connect(self.resume)
        view.manifest_button.clicked.connect(self.choose_manifest)
        view.activate_button.clicked.connect(self._activate)
        view.source.currentIndexChanged.connect(self._source_changed)
        view.batch_size.valueChanged.connect(self._update_effective)
        view.accumulate.valueChanged.connect(self._update_effective)
        self._source_changed()
        self._update_effective()
        self._devices_asked = False

    def detect_devices(self) -> None:
        """Ask torch for GPUs off the GUI thread (the first time the panel is shown)."""
        if not self._devices_asked:
            self._devices_asked = True
            self.ctx.runner.run(_list_devices, self._got_devices, self._no_devices, pool="cpu",
                                name="devices")

    @Slot(object)
    def _got_devices(self, devices: list[training.DeviceChoice]) -> None:
        self.view.set_devices(devices, self.ctx.settings.value.train_device)

    @Slot(object)
    def _no_devices(self, error: BaseException) -> None:
        self.view.device_info.setText(f"Cannot list GPUs: {error}")

    # ---- options -----------------------------------------------------------------------------
    def options(self) -> TrainOptions:
        """The run the panel describes now."""
        view = self.view
        active = self.ctx.models.active() if view.fine_tune.isChecked() else None
        model = str(view.model.currentData() or "")
        # The run folder's name is the trained model's name in the models list.
        what = f"from-{active.name}" if active is not None else (model or "trained")
        return TrainOptions(
            out=self.ctx.data_dir / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{what}",
            source=str(view.source.currentData()),
            library=self.ctx.library_path,
            manifest=self._manifest,
            model=model,
            objective=str(view.objective.currentData()),
            init=active.path if active is not None else None,
            batch_size=view.batch_size.value(),
            accumulate=view.accumulate.value(),
            steps=view.steps.value(),
            device=str(view.device.currentData() or "auto"),
        )

    def choose_manifest(self) -> None:
        """Pick a CSV / JSONL manifest."""
        path, _ = QFileDialog.getOpenFileName(self.view, "Choose a manifest", "",
                                              "Manifests (*.csv *.jsonl *.json)")
        if path:
            self.set_manifest(Path(path))

    def set_manifest(self, path: Path) -> None:
        """Use ``path`` as the manifest."""
        self._manifest = path
        self.view.manifest_label.setText(str(path))
        self.view.source.setCurrentIndex(self.view.source.findData("manifest"))

    def _source_changed(self, _index: int = 0) -> None:
        manifest = self.view.source.currentData() == "manifest"
        self.view.manifest_button.setVisible(manifest)
        self.view.manifest_label.setVisible(manifest)

    def _update_effective(self, _value: int = 0) -> None:
        effective = self.view.batch_size.value() * self.view.accumulate.value()
        self.view.effective.setText(f"= {effective:,} clips per optimizer step")

    # ---- the run -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the trainer process lives."""
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, options: TrainOptions | None = None) -> bool:
        """Start a run; returns False (with a message) when it cannot."""
        if self.running:
            return False
        options = options if isinstance(options, TrainOptions) else self.options()
        problems = options.problems()
        if problems:
            self.failed.emit("Cannot start training: " + "; ".join(problems) + ".")
            return False
        options.out.mkdir(parents=True, exist_ok=True)
        self._stopped = None
        self.view.resume_button.setVisible(False)
        self.run_dir = options.out
        self._tail = MetricsTail(options.out / "metrics.jsonl")
        self._series = {name: ([], []) for _, _, series in PLOTS.values() for name, _ in series}
        self.view.set_curves({name: ([], []) for name in self._series})
        argv = training.train_command(options)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.setWorkingDirectory(str(training.train_workdir(options)))
        env = QProcessEnvironment.systemEnvironment()
        for name, value in training.train_environment().items():
            env.insert(name, value)
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._process_error)
        self.process = process
        self.view.log.appendPlainText("$ " + shlex.join(argv))
        process.start(argv[0], argv[1:])
        self._clock = StepClock(options.steps)
        self._started = options
        self.view.set_progress(0, options.steps)
        self.view.start_button.setEnabled(False)
        self.view.stop_button.setEnabled(True)
        self.view.activate_button.setEnabled(False)
        self.view.evaluation.setText("")
        self.view.status.setText(f"Preparing the run {options.out.name}…")
        self.ctx.settings.update(train_device=options.device)
        self._timer.start()
        return True

    @Slot()
    def resume(self) -> bool:
        """Continue the run stopped last, from its checkpoint, with the same options."""
        stopped = self._stopped
        if stopped is None:
            return False
        return self.start(replace(stopped, resume=True))

    def show_run(self, run_dir: Path) -> None:
        """Plot a finished (or another process's) run from its ``metrics.jsonl``."""
        self.run_dir = Path(run_dir)
        self._tail = MetricsTail(self.run_dir / "metrics.jsonl")
        self._series = {name: ([], []) for _, _, series in PLOTS.values() for name, _ in series}
        self.view.set_curves({name: ([], []) for name in self._series})
        self.poll()
        self.view.flush_curves()
        done = (self.run_dir / "bundle").is_dir()
        self.view.activate_button.setEnabled(done and not self.running)
        state = "finished; its model is ready to use" if done else "not finished"
        self.view.status.setText(f"{self.view.status.text()}\nRun {self.run_dir.name}: {state}.")
        if done:
            self._show_evaluation(self.run_dir / "bundle")

    @Slot()
    def stop(self) -> None:
        """Ask the trainer to checkpoint and stop (SIGTERM; it resumes with --resume)."""
        if self.running and self.process is not None:
            self.view.status.setText("Stopping after this step…")
            self.process.terminate()

    @Slot()
    def poll(self) -> None:
        """Read new metrics and redraw the curves."""
        if self._tail is None:
            return
        records = self._tail.read_new()
        grown: set[str] = set()
        for record in records:
            grown |= self._add_record(record)
        now = time.monotonic()
        for record in records:
            if record.get("kind") == "step" and isinstance(record.get("step"), int):
                self._clock.observe(record["step"], now)
        if grown:  # only the series that gained points are redrawn
            # Drawn a plot per event-loop turn: all four in one paint held the loop 30-60 ms.
            self.view.set_curves_soon({name: self._series[name] for name in grown})
            steps = [r for r in records if r.get("kind") == "step"]
            if steps:
                last = steps[-1]
                self.view.set_progress(self._clock.step, self._clock.total)
                self.view.status.setText(
                    f"{self._clock.describe()}\nloss {last.get('loss', float('nan')):.4f} · "
                    f"{last.get('samples_per_s', 0):.1f} clips/s"
                )

    def _add_record(self, record: dict) -> set[str]:
        """Append the record's values to their series; returns the series that grew."""
        step = float(record.get("step", 0))
        values = dict(record)
        if "peak_mem_bytes" in values and values["peak_mem_bytes"] is not None:
            values["peak_mem_mib"] = values["peak_mem_bytes"] / 2**20
        grown = set()
        for name, (xs, ys) in self._series.items():
            value = values.get(name)
            if isinstance(value, int | float) and value == value:  # skips None and NaN
                xs.append(step)
                ys.append(float(value))
                grown.add(name)
        return grown

    def points(self, name: str) -> list[float]:
        """The plotted values of one series (for tests and tooltips)."""
        return list(self._series.get(name, ([], []))[1])

    @Slot()
    def _read_output(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self.view.log.appendPlainText(line.rstrip())

    @Slot(int, QProcess.ExitStatus)
    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self._timer.stop()
        self.poll()
        self.view.flush_curves()  # the run's last points, drawn before anyone looks
        self.view.start_button.setEnabled(True)
        self.view.stop_button.setEnabled(False)
        bundle = self.run_dir / "bundle" if self.run_dir else None
        if code == 0 and bundle is not None and bundle.is_dir():
            self.view.set_progress(self._clock.total, self._clock.total)
            self.view.status.setText(
                f"Finished. The new model “{bundle.parent.name}” is listed under Models.")
            self._show_evaluation(bundle)
            self.view.activate_button.setEnabled(True)
            self.bundle_ready.emit(str(bundle))
        elif code == 130:
            self._stopped = self._started
            self.view.resume_button.setVisible(True)
            self.view.status.setText(f"Stopped at step {self._clock.step:,} of "
                                     f"{self._clock.total:,}; a checkpoint was saved.")
        else:
            self.view.status.setText(f"Training ended with an error (exit code {code}).")
            self.failed.emit(f"Training failed (exit code {code}); its log is in the panel.")

    def _show_evaluation(self, bundle: Path) -> None:
        """What the trained model scored on its held-out tracks, before the user adopts it."""
        self.view.evaluation.setText(evaluation_summary(describe_bundle(bundle, "trained").metrics))

    @Slot(QProcess.ProcessError)
    def _process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._timer.stop()
            self.view.start_button.setEnabled(True)
            self.view.stop_button.setEnabled(False)
            self.failed.emit("Cannot start the trainer process (is SlapDesk fully installed?).")

    @Slot()
    def _activate(self) -> None:
        if self.run_dir is not None:
            self.activate_requested.emit(os.fspath(self.run_dir / "bundle"))

    def shutdown(self) -> None:
        """Stop a running trainer (window closing)."""
        if self.running and self.process is not None:
            self.process.terminate()
            if not self.process.waitForFinished(5000):
                self.process.kill()


@register_tab("training", "Training", 40)
def training_tab(window: MainWindow) -> Tab:
    """Train or fine-tune a model and watch its curves."""
    view = TrainingView()
    controller = TrainingController(window.ctx, view, window)
    controller.failed.connect(window.show_error)
    controller.activate_requested.connect(window.model_requested)
    window.closing.connect(controller.shutdown)
    return Tab(view, controller, controller.detect_devices)
