"""Qt calling Python slots must not drop references it does not own (PySide6 6.12.0 did).

That version released one reference to None on every slot call: an idle window (timers firing
~180 slot calls a second) aborted with "deallocating None" after a few minutes.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Signal


class _Emitter(QObject):
    value = Signal(int, object)


def test_a_timer_calling_a_python_slot_keeps_the_reference_counts(qapp) -> None:
    calls = []
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: calls.append(1))
    before = sys.getrefcount(None), sys.getrefcount(True)
    timer.start()
    while len(calls) < 2000:
        qapp.processEvents()
    timer.stop()
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert abs(after[0] - before[0]) < 100, after[0] - before[0]
    assert abs(after[1] - before[1]) < 100, after[1] - before[1]


def test_signals_carrying_none_and_bools_keep_the_reference_counts(qapp) -> None:
    emitter = _Emitter()
    got = []
    emitter.value.connect(lambda i, x: got.append(i))
    before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(2000):
        emitter.value.emit(i, None if i % 2 else True)
    after = sys.getrefcount(None), sys.getrefcount(True)
    assert len(got) == 2000
    assert abs(after[0] - before[0]) < 100, after[0] - before[0]
    assert abs(after[1] - before[1]) < 100, after[1] - before[1]
