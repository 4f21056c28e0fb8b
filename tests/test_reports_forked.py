"""reports.forked: one call in a forked child (how a report worker lays out each PDF)."""

from __future__ import annotations

import os
import signal

import pytest

from reports.forked import ForkedCallError, ForkedChildDied, run_forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _fail() -> None:
    raise ValueError("columna «x» inválida")


def _exhaust() -> bytes:
    raise MemoryError


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_the_call_runs_in_another_process_and_its_result_comes_back():
    child_pid, answer = run_forked(lambda: (os.getpid(), {"refused": ["http://x.invalid/a.png"]}))
    assert child_pid != os.getpid()
    assert answer == {"refused": ["http://x.invalid/a.png"]}


def test_a_failure_in_the_child_is_raised_here_with_its_name_and_message():
    with pytest.raises(ForkedCallError, match="ValueError: columna «x» inválida"):
        run_forked(_fail)


def test_memory_exhausted_in_the_child_is_a_memory_error_here():
    with pytest.raises(MemoryError):
        run_forked(_exhaust)


def test_a_child_killed_without_an_answer_is_reported_and_this_process_goes_on():
    with pytest.raises(ForkedChildDied, match="sin respuesta"):
        run_forked(_die)
    assert run_forked(lambda: 2 + 2) == 4


def test_the_childs_memory_is_not_this_process_memory():
    def grow() -> int:
        blob = bytearray(200 * 2**20)
        return len(blob)

    def rss_kb() -> int:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    before = rss_kb()
    assert run_forked(grow) == 200 * 2**20
    assert rss_kb() - before < 50 * 1024  # the 200 MB lived and died in the child
