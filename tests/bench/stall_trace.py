"""Where the GUI thread was while the event loop stalled: a sampling watchdog.

A watchdog thread wakes every few milliseconds; when the event loop has not ticked for longer
than a threshold, it records the GUI thread's stack and the innermost frames of every other
thread (``sys._current_frames``). Each stall is one episode (all samples since the same
tick). ``report`` prints the episodes longer than 50 ms with the stacks seen most often, so a
stall is traced to the code that caused it instead of being guessed at. A GUI thread waiting
for the interpreter lock shows where it waits; the other threads' frames then show who held it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

# Frames from these paths say nothing about who caused a stall.
_NOISE = ("stall_trace.py", "threading.py", "bench_gui_stall.py")


def _frames(frame, depth: int) -> tuple[str, ...]:
    stack = [f for f in traceback.extract_stack(frame) if not f.filename.endswith(_NOISE)]
    return tuple(f"{_short(f.filename)}:{f.lineno} {f.name}" for f in stack[-depth:])


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/slapdesk/", "/engine/", "/lib/python3"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1]
    return path


def _schedstat(native_id: int | None) -> tuple[int, int]:
    """(ns on a CPU, ns waiting for a CPU) of one thread of this process (Linux; else zeros)."""
    try:
        with open(f"/proc/self/task/{native_id}/schedstat") as f:
            ran, waited, _ = f.read().split()
        return int(ran), int(waited)
    except (OSError, ValueError):
        return 0, 0


class _ThreadClock:
    """Every thread's ns on a CPU, from files kept open: 0.05 ms a read with 30 threads
    (opening the files at every read took 0.6 ms: it ran 100 times a second)."""

    def __init__(self) -> None:
        self._files: dict[int, int] = {}  # native thread id -> open schedstat file
        self._reads = 0

    def read(self) -> dict[int, int]:
        """Native thread id -> ns on a CPU (Linux; else empty)."""
        if self._reads % 50 == 0:  # threads come and go: list them about twice a second
            self._refresh()
        self._reads += 1
        ran = {}
        for task, fd in list(self._files.items()):
            try:
                ran[task] = int(os.pread(fd, 128, 0).split()[0])
            except (OSError, ValueError, IndexError):
                os.close(fd)
                del self._files[task]
        return ran

    def close(self) -> None:
        """Close the files."""
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()

    def _refresh(self) -> None:
        try:
            tasks = {int(task) for task in os.listdir("/proc/self/task")}
        except OSError:
            return
        for task in tasks - self._files.keys():
            with contextlib.suppress(OSError):  # the thread ended meanwhile
                self._files[task] = os.open(f"/proc/self/task/{task}/schedstat", os.O_RDONLY)


def _thread_name(native_id: int) -> str:
    for thread in threading.enumerate():
        if thread.native_id == native_id:
            return thread.name
    try:  # a thread Python did not start (Qt's, a library's): the kernel's name for it
        with open(f"/proc/self/task/{native_id}/comm") as f:
            return f.read().strip() + " (native)"
    except OSError:
        return f"thread {native_id}"


@dataclass
class Episode:
    """One stall: the samples taken while the event loop did not tick."""

    phase: str
    start: tuple[int, int] = (0, 0)  # the GUI thread's schedstat at the last tick
    end: tuple[int, int] = (0, 0)
    longest_ms: float = 0.0
    main: Counter = field(default_factory=Counter)
    others: Counter = field(default_factory=Counter)
    threads_start: dict[int, int] = field(default_factory=dict)  # every thread's ns on a CPU
    threads_end: dict[int, int] = field(default_factory=dict)

    def busiest(self, count: int = 3) -> list[tuple[str, float]]:
        """The other threads of this process that ran most during the stall: (name, ms)."""
        ran = [(self.threads_end[t] - self.threads_start.get(t, 0), t)
               for t in self.threads_end]
        return [(_thread_name(t), ns / 1e6) for ns, t in sorted(ran, reverse=True)
                if ns >= 1e6 and t != threading.main_thread().native_id][:count]

    def split(self) -> tuple[float, float, float]:
        """(ms the GUI thread ran, waited for a CPU, was blocked) during the stall."""
        ran = (self.end[0] - self.start[0]) / 1e6
        waited = (self.end[1] - self.start[1]) / 1e6
        return ran, waited, max(0.0, self.longest_ms - ran - waited)


class StallTracer:
    """Call ``beat(phase)`` from every event-loop tick; ``report()`` at the end."""

    def __init__(self, threshold_ms: float = 30.0, interval_ms: float = 3.0,
                 depth: int = 10) -> None:
        """Start the watchdog."""
        self._threshold = threshold_ms / 1000
        self._interval = interval_ms / 1000
        self._depth = depth
        self._main = threading.main_thread().ident
        self._native = threading.main_thread().native_id
        self._last = time.perf_counter()
        self._sched = _schedstat(self._native)
        self._clock = _ThreadClock()
        self._threads = self._clock.read()  # as the watchdog saw them after the last tick
        self._threads_at = self._last
        self._phase = "idle"
        self.episodes: dict[float, Episode] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-tracer", daemon=True)
        self._thread.start()

    def worst_per_phase(self) -> dict[str, tuple[float, float, float, float]]:
        """Phase -> (longest stall, GUI thread ran, waited for a CPU, blocked) in ms."""
        worst: dict[str, tuple[float, float, float, float]] = {}
        for episode in self.episodes.values():
            if episode.longest_ms > worst.get(episode.phase, (0.0,))[0]:
                worst[episode.phase] = (episode.longest_ms, *episode.split())
        return worst

    def beat(self, phase: str) -> None:
        """The event loop ran (from the GUI thread's timer)."""
        episode = self.episodes.get(self._last)
        if episode is not None:  # a stall is counted under the phase that sees it end
            episode.phase = phase
        self._last = time.perf_counter()
        self._phase = phase
        self._sched = _schedstat(self._native)

    def stop(self) -> None:
        """End the watchdog."""
        self._stop.set()
        self._thread.join()
        self._clock.close()

    def _watch(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self._interval):
            last = self._last
            late = time.perf_counter() - last
            if last != self._threads_at:  # a new tick: what every thread had run by then
                self._threads, self._threads_at = self._clock.read(), last
            if late < self._threshold:
                continue
            frames = sys._current_frames()
            episode = self.episodes.setdefault(
                last, Episode(self._phase, self._sched, threads_start=self._threads))
            episode.longest_ms = max(episode.longest_ms, late * 1000)
            episode.end = _schedstat(self._native)
            episode.threads_end = self._clock.read()
            if self._main in frames:
                episode.main[_frames(frames[self._main], self._depth)] += 1
            for ident, frame in frames.items():
                if ident not in (self._main, me):
                    top = _frames(frame, 3)
                    if top and "wait" not in top[-1] and "select" not in top[-1]:
                        episode.others[top] += 1

    def report(self, over_ms: float = 50.0, stacks: int = 2) -> None:
        """Print every episode longer than ``over_ms`` with its most frequent stacks.

        Then the worst stall of each phase, split into the GUI thread's work and its waits.
        """
        long = [e for e in self.episodes.values() if e.longest_ms >= over_ms]
        print(f"\nstalls over {over_ms:.0f} ms, traced: {len(long)}")
        for episode in sorted(long, key=lambda e: -e.longest_ms):
            samples = sum(episode.main.values())
            ran, waited, blocked = episode.split()
            print(f"-- {episode.phase}: {episode.longest_ms:.0f} ms ({samples} samples); the GUI "
                  f"thread ran {ran:.0f} ms, waited {waited:.0f} ms for a CPU, "
                  f"{blocked:.0f} ms blocked (a lock, I/O)")
            for stack, count in episode.main.most_common(stacks):
                where = "\n      ".join(stack) or "(in Qt's C++ code: event loop, painting)"
                print(f"   GUI thread x{count}:\n      {where}")
            for stack, count in episode.others.most_common(stacks):
                print(f"   other thread x{count}: " + " <- ".join(reversed(stack)))
            busiest = ", ".join(f"{name} {ms:.0f} ms" for name, ms in episode.busiest())
            if busiest:
                print(f"   ran meanwhile in this process: {busiest}")
        print(f"\n{'phase':24}{'longest stall':>15}{'GUI ran':>10}{'CPU wait':>10}"
              f"{'blocked':>10}  (traced stalls over {self._threshold * 1000:.0f} ms)")
        for phase, (longest, ran, waited, blocked) in self.worst_per_phase().items():
            print(f"{phase:24}{longest:>12.0f} ms{ran:>7.0f} ms{waited:>7.0f} ms"
                  f"{blocked:>7.0f} ms")
