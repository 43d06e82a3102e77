"""The choice of the fused kernel's thread count from measured speed."""

from __future__ import annotations

from cxroi.sim.threads import ThreadChooser

LARGE = 1_000_000  # units of work, above the parallel threshold


def test_small_calls_use_one_thread_and_are_not_recorded():
    chooser = ThreadChooser(2, smallest_parallel=1_000)
    assert chooser.choose(999) == 1
    chooser.record(1, 999, 1.0)
    assert chooser.seconds_per_unit == {}


def test_each_count_is_tried_then_the_faster_used_and_the_other_retried_now_and_then():
    chooser = ThreadChooser(2, explore_every=4)
    assert chooser.choose(LARGE) == 1
    chooser.record(1, LARGE, 0.005)
    assert chooser.choose(LARGE) == 2
    chooser.record(2, LARGE, 0.003)
    picks = [chooser.choose(LARGE) for _ in range(8)]
    assert picks == [2, 2, 2, 1, 2, 2, 2, 1]


def test_the_choice_follows_a_change_of_speed():
    chooser = ThreadChooser(2, weight=0.5)
    chooser.record(1, LARGE, 0.005)
    chooser.record(2, LARGE, 0.003)
    assert chooser.choose(LARGE) == 2
    for _ in range(3):  # the second core gets busy: two threads now take 9 ms
        chooser.record(2, LARGE, 0.009)
    assert chooser.seconds_per_unit[2] > chooser.seconds_per_unit[1]
    assert chooser.choose(LARGE) == 1


def test_one_core_means_one_thread():
    chooser = ThreadChooser(1)
    assert chooser.choose(LARGE) == 1
    chooser.record(1, LARGE, 0.005)
    assert chooser.seconds_per_unit == {}
