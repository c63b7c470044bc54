from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.training_checkpoint import latest_checkpoint
from slapdesk.library.jobs.active_model import library_choice
from slapdesk.library.jobs.training import MetricsTail, TrainOptions, train_command


@pytest.mark.slow
def test_training_panel_runs_a_tiny_cpu_run_and_plots_it(make_window, qtbot, tmp_path) -> None:
    window = make_window()
    window.show_tab("training")
    panel = window.tab("training").controller
    options = TrainOptions(out=tmp_path / "run", source="synthetic", synthetic=16,
                           model="slap_test", steps=50, batch_size=4, accumulate=2,
                           device="cpu", workers=0, freeze_text=False)
    assert panel.start(options)
    assert panel.running
    assert not window.tab("training").view.start_button.isEnabled()
    qtbot.waitUntil(lambda: len(panel.points("loss")) >= 1, timeout=120_000)
    assert panel.points("samples_per_s")[0] > 0
    assert panel.points("peak_mem_mib")[0] > 10
    assert window.tab("training").view.status.text().startswith("Step ")
    assert not window.tab("training").view.grab().isNull()
    with qtbot.waitSignal(panel.process.finished, timeout=60_000):
        panel.stop()  # SIGTERM: the trainer checkpoints and exits 130
    assert not panel.running
    assert "Stopped" in window.tab("training").view.status.text()
    assert window.tab("training").view.start_button.isEnabled()
    assert latest_checkpoint(tmp_path / "run" / "checkpoints") is not None  # --resume goes on


def test_training_panel_refuses_bad_options_with_a_message(make_window) -> None:
    window = make_window()
    options = TrainOptions(out=Path("/nonexistent/run"), source="manifest", manifest=None)
    assert not window.tab("training").controller.start(options)
    assert "choose a manifest file" in window.messages.text


def test_train_command_carries_every_option(tmp_path: Path) -> None:
    argv = train_command(TrainOptions(out=tmp_path, source="manifest", manifest=tmp_path / "m.csv",
                                      batch_size=8, accumulate=4, lr=1e-4, init=tmp_path / "b"),
                         python="py")
    assert argv[:3] == ["py", "-m", "slapdesk.train"]
    joined = " ".join(argv)
    for part in ("--batch-size 8", "--accumulate 4", f"--manifest {tmp_path}/m.csv",
                 "--lr 0.0001", f"--init {tmp_path}/b", "--freeze-text"):
        assert part in joined


def test_metrics_tail_reads_only_complete_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.read_new() == []
    with path.open("w") as out:
        out.write(json.dumps({"step": 1}) + "\n" + '{"step": 2')
    assert tail.read_new() == [{"step": 1}]
    with path.open("a") as out:
        out.write("}\nnot json\n")
    assert tail.read_new() == [{"step": 2}]
    path.write_text(json.dumps({"step": 1, "resumed": True}) + "\n")
    assert tail.read_new() == [{"step": 1, "resumed": True}]


def test_models_panel_lists_imports_and_activates(make_window, qtbot, tmp_path: Path) -> None:
    window = make_window()
    models = window.show_tab("models").view
    names = [models.list.item(i).text() for i in range(models.list.count())]
    assert all("unusable" not in n for n in names)
    not_a_bundle = tmp_path / "junk"
    not_a_bundle.mkdir()
    window.tab("models").controller.import_folder(str(not_a_bundle))
    assert "Cannot import that folder" in window.messages.text
    assert "config.json is missing" in window.messages.text
    window.tab("models").controller.activate(str(tmp_path / "some" / "bundle"))
    assert library_choice(window.ctx.database, "") == str(tmp_path / "some" / "bundle")
    assert window.ctx.settings.value.active_model == ""  # the other libraries keep theirs
    qtbot.waitUntil(lambda: not window.jobs.busy)
    # No usable bundle exists here: the embedding job says so instead of failing.
    assert window.status_label.text().startswith("Search by sound is off: No model bundle")


def test_training_panel_offers_only_architectures_a_user_can_train(make_window) -> None:
    window = make_window()
    combo = window.tab("training").view.model
    names = [combo.itemText(i) for i in range(combo.count())]
    assert "slap_test" not in names and "clap_test" not in names
    assert {"default-small", "htsat-base", "slapdesk-default"} <= set(names)
