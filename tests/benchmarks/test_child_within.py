"""Tests for running benchmark work in a child process with a time limit."""

from __future__ import annotations

import os
import time

import pytest

from benchmarks.common import (
    ChildFailed,
    ChildMemoryExceeded,
    ChildTimeout,
    Limits,
    peak_rss_bytes,
    run_in_child_within,
)


def test_child_result_comes_back_with_peak_memory_and_time() -> None:
    child = run_in_child_within(Limits(seconds=60), sorted, [3, 1, 2])
    assert child.result == [1, 2, 3]
    assert 1 < child.peak_rss_mib < 4096
    assert child.seconds >= 0


def test_child_over_its_limit_is_killed() -> None:
    start = time.perf_counter()
    with pytest.raises(ChildTimeout, match="no result within"):
        run_in_child_within(Limits(seconds=1.0), time.sleep, 60)
    assert time.perf_counter() - start < 30


def test_exception_in_the_child_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        run_in_child_within(Limits(), int, "not a number")


def test_child_that_dies_without_a_result_is_reported() -> None:
    with pytest.raises(ChildFailed, match="exited with code 3"):
        run_in_child_within(Limits(seconds=60), os._exit, 3)


def test_child_over_its_memory_limit_is_killed() -> None:
    # 1 MB is below any Python interpreter's resident size; sleep keeps it alive meanwhile
    with pytest.raises(ChildMemoryExceeded, match="resident memory over"):
        run_in_child_within(Limits(seconds=60, rss_bytes=10**6), time.sleep, 60)


def test_child_peak_memory_excludes_the_parents_memory() -> None:
    # a spawned child starts as a fork of this process; its own peak must not count ours
    ballast = bytearray(300 * 2**20)
    ballast[:: 2**12] = b"x" * len(ballast[:: 2**12])  # touch every page: resident
    child = run_in_child_within(Limits(seconds=60), sorted, [2, 1])
    assert child.peak_rss_mib < 250
    assert peak_rss_bytes() > 300 * 2**20
