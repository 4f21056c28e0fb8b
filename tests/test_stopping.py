"""The signal handling of audit.stopping, each case in its own Python process (signals are process-wide): the end
of a run is written even when the operator's second signal comes during that write, a notice that fails never
replaces the stop, and a late signal while the process exits does not turn exit 130 into a kill."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, text=True, capture_output=True,
                          timeout=60)


def test_a_second_signal_during_the_final_status_write_waits_for_it_then_stops():
    done = _python("""
        import os, signal, time
        from audit.stopping import StopNow, shielded, signal_stop
        try:
            with signal_stop(60, print):
                os.kill(os.getpid(), signal.SIGTERM)  # the first signal: the stage stops at its next check
                with shielded():  # the run's end is being written when the second one comes
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(0.2)
                    print("status written")
                print("not reached: the held stop is raised when the write is over")
        except StopNow:
            print("stopped after the write")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["status written", "stopped after the write"]


def test_outside_a_shielded_step_the_second_signal_stops_at_once():
    done = _python("""
        import os, signal, time
        from audit.stopping import StopNow, signal_stop
        try:
            with signal_stop(60, print):
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
                print("not reached")
        except StopNow:
            print("stopped at once")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "stopped at once" and "not reached" not in done.stdout


def test_a_notice_that_fails_does_not_replace_the_stop():
    """The console can fail inside the handler (a second signal cut the first notice while rich imported a module):
    the stop event is set all the same and the second signal is still a StopNow, not that error."""
    done = _python("""
        import os, signal, time
        from audit.stopping import StopNow, check_stop, signal_stop
        def notice(message):
            raise ImportError("cannot import name 'EMOJI' from partially initialized module")
        try:
            with signal_stop(60, notice) as stop:
                os.kill(os.getpid(), signal.SIGTERM)
                print("stop set:", stop.is_set())
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
        except StopNow:
            print("StopNow")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["stop set: True", "StopNow"]


def test_a_late_signal_while_the_process_exits_keeps_exit_code_130():
    """Python hands its signal handlers back to the system while it shuts down; a SIGTERM then would kill the
    process (-15). After exiting_after_stop() it is ignored, even during the interpreter's own shutdown."""
    done = _python("""
        import atexit, os, signal, sys
        from audit.stopping import exiting_after_stop
        exiting_after_stop()
        os.kill(os.getpid(), signal.SIGTERM)
        atexit.register(lambda: os.kill(os.getpid(), signal.SIGTERM))  # while the interpreter shuts down
        print("still here")
        sys.exit(130)
    """)
    assert done.stdout.strip() == "still here"
    assert done.returncode == 130, done.stderr
