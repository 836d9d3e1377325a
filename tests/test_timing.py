"""best_time: one warm-up call, then the minimum over the timed calls."""

import time

import pytest

from course_utils.timing import best_time


def test_best_time_warms_up_once_then_takes_the_fastest_call():
    delays = iter([0.05, 0.03, 0.0, 0.02])  # the warm-up call is the slowest and is not timed
    calls = []

    def fn():
        calls.append(1)
        time.sleep(next(delays))

    seconds = best_time(fn, repeats=3)
    assert len(calls) == 4
    assert seconds < 0.015


@pytest.mark.parametrize("kwargs, name", [({"fn": 3}, "fn"), ({"repeats": 0}, "repeats"),
                                          ({"repeats": 2.0}, "repeats"), ({"repeats": True}, "repeats")])
def test_best_time_rejects_bad_arguments_by_name(kwargs, name):
    args = {"fn": lambda: None, **kwargs}
    with pytest.raises(ValueError, match=name):
        best_time(**args)
