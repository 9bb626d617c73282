"""Work done by a fresh Python interpreter beside this one: a second core on a long analysis.

``Offload(fn, *args)`` starts ``python -m survey.analysis.offload``, hands it ``fn`` and its
arguments as one pickle on its stdin and returns at once; ``result()`` waits and gives what
``fn`` returned (pickled back on its stdout), or raises what ``fn`` raised (a
:class:`~survey.errors.DataError` keeps both its messages), or :class:`OffloadError` if the
child died without saying (a traceback is on this process's stderr, which the child shares).

Fresh interpreters, not multiprocessing: a fork would copy a server's threads mid-lock, and
spawn or forkserver import the caller's main module again (an analyst's script without a
``__main__`` guard would run twice; tests/analysis/test_charts.py runs one). The pickles pass
only between this process and its own child, through pipes in memory: the tables hold their
unsuppressed figures and the dataset its rows, and neither is ever written to a temporary
file. ``fn`` must be importable by name (a module-level function of this package).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import traceback
from collections.abc import Callable
from subprocess import PIPE
from typing import Any, Generic, TypeVar

from survey.errors import SurveyError

T = TypeVar("T")


class OffloadError(RuntimeError):
    """The child process failed (exit status in the message, traceback on stderr)."""


class Offload(Generic[T]):
    """``fn(*args)`` in a child interpreter; :meth:`result` waits for its return value."""

    def __init__(self, fn: Callable[..., T], *args: Any) -> None:
        self._name = f"{fn.__module__}.{fn.__qualname__}"
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        self._child = subprocess.Popen(  # our own module, our own interpreter
            [sys.executable, "-m", "survey.analysis.offload"], stdin=PIPE, stdout=PIPE
        )
        assert self._child.stdin is not None
        try:
            self._child.stdin.write(payload)
            self._child.stdin.close()
        except BaseException:
            self.cancel()
            raise

    def result(self) -> T:
        try:
            assert self._child.stdout is not None
            output = self._child.stdout.read()
            if self._child.wait() != 0 or not output:
                raise OffloadError(f"{self._name} failed (exit {self._child.returncode})")
            done, value = pickle.loads(output)  # noqa: S301  # from our own child
            if not done:
                raise value
            return value  # type: ignore[no-any-return]
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the child if it still runs (nothing is left running after a failure)."""
        if self._child.poll() is None:
            self._child.kill()
            self._child.wait()
        if self._child.stdout is not None:
            self._child.stdout.close()


def results(work: list[Offload[T]]) -> list[T]:
    """Every offload's result in order; the others stopped if one fails."""
    try:
        return [w.result() for w in work]
    finally:
        for w in work:
            w.cancel()


def _main() -> None:
    fn, args = pickle.loads(sys.stdin.buffer.read())  # noqa: S301  # from our parent
    try:
        reply: tuple[bool, Any] = (True, fn(*args))
    except SurveyError as error:  # meant for the user: raised again in the parent
        reply = (False, error)
    except Exception:
        traceback.print_exc()  # a bug: its traceback where the parent's stderr goes
        raise
    sys.stdout.buffer.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _main()
