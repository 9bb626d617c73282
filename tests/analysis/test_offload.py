"""Work in a second interpreter: its result, its errors, nothing left running."""

from __future__ import annotations

import os
import time

import pytest

from survey.analysis.offload import Offload, OffloadError, results
from survey.errors import DataError


def add(a: int, b: int) -> tuple[int, int]:
    return a + b, os.getpid()


def refuse(what: str) -> None:
    raise DataError(f"{what} がありません。", f"No {what}.")


def crash() -> None:
    os._exit(3)  # dies without a word, as a child killed by the kernel would


def sleep_long() -> None:
    time.sleep(300)


def test_the_result_comes_from_another_process() -> None:
    total, pid = Offload(add, 2, 3).result()
    assert total == 5 and pid != os.getpid()


def test_a_users_error_is_raised_again_with_both_messages() -> None:
    with pytest.raises(DataError) as caught:
        Offload(refuse, "回答").result()
    assert caught.value.ja == "回答 がありません。" and caught.value.en == "No 回答."


def test_a_child_that_dies_is_an_offload_error() -> None:
    with pytest.raises(OffloadError, match="crash failed"):
        Offload(crash).result()


def test_a_failure_stops_the_others() -> None:
    slow = Offload(sleep_long)
    pid = slow._child.pid
    with pytest.raises(OffloadError):
        results([Offload(crash), slow])
    assert slow._child.poll() is not None  # killed, not left sleeping
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
