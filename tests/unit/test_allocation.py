from datetime import UTC, datetime, timedelta

import pytest

from core.domain.allocation import choose_gpus, choose_port, shortages, usage_in
from core.domain.model import Booking, Resources, Status, Window

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def booking(start_h: float, end_h: float, cpus: float = 1, memory: int = 1,
            gpu_ids: tuple[int, ...] = (), port: int = 10001,
            status: Status = Status.BOOKED) -> Booking:
    return Booking(
        account="x", start=T0 + timedelta(hours=start_h), end=T0 + timedelta(hours=end_h),
        resources=Resources(cpus, memory, len(gpu_ids)), gpu_ids=gpu_ids, port=port,
        image="i", status=status,
    )


def window(start_h: float, end_h: float) -> Window:
    return Window(T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h))


def test_peak_counts_only_bookings_that_meet_at_one_instant() -> None:
    # 0-2 and 2-4 touch but never overlap; 1-3 overlaps both.
    held = [booking(0, 2, cpus=4), booking(2, 4, cpus=4), booking(1, 3, cpus=2)]
    usage = usage_in(window(0, 4), held)
    assert usage.peak_cpus == 6


def test_bookings_that_hold_nothing_are_ignored() -> None:
    held = [booking(0, 4, cpus=8, gpu_ids=(0,), status=status)
            for status in (Status.CANCELLED, Status.FINISHED, Status.FAILED)]
    usage = usage_in(window(0, 4), held)
    assert (usage.peak_cpus, usage.busy_gpus, usage.busy_ports) == (0, frozenset(), frozenset())


def test_running_and_ending_bookings_hold_resources() -> None:
    held = [booking(0, 4, memory=3, gpu_ids=(1,), status=Status.RUNNING),
            booking(0, 4, memory=2, gpu_ids=(2,), port=10002, status=Status.ENDING)]
    usage = usage_in(window(1, 2), held)
    assert usage.peak_memory == 5
    assert usage.busy_gpus == {1, 2}


def test_a_gpu_busy_at_any_instant_is_busy_for_the_window() -> None:
    usage = usage_in(window(0, 10), [booking(9, 12, gpu_ids=(3,))])
    assert usage.busy_gpus == {3}


def test_shortages_name_each_short_resource() -> None:
    usage = usage_in(window(0, 1), [booking(0, 1, cpus=10, memory=30, gpu_ids=(0, 1, 2))])
    short = shortages(Resources(8, 20, 2), Resources(16, 40, 4), usage)
    assert short == ["CPUs (8 asked, 6 free)", "memory (20 GB asked, 10 GB free)",
                     "GPUs (2 asked, 1 free)"]
    assert shortages(Resources(6, 10, 1), Resources(16, 40, 4), usage) == []


@pytest.mark.parametrize(
    ("free", "count", "chosen"),
    [
        ([0, 1, 2, 3], 2, (0, 1)),
        ([0, 2, 3], 1, (0,)),  # the lone GPU, keeping the pair 2-3 whole
        ([0, 1, 3, 4, 5], 2, (0, 1)),  # the pair that fits exactly, not a piece of 3-5
        ([0, 1, 3, 4, 5], 3, (3, 4, 5)),
        ([1, 2, 4, 5, 6, 7], 1, (1,)),
        ([0, 2, 4, 5], 3, (0, 4, 5)),  # no run of 3: the longest run first, then the lowest
        ([5, 1, 3], 0, ()),
    ],
)
def test_gpu_choice_keeps_the_pool_least_fragmented(
    free: list[int], count: int, chosen: tuple[int, ...]
) -> None:
    assert choose_gpus(free, count) == chosen


def test_gpu_choice_refuses_more_than_is_free() -> None:
    with pytest.raises(ValueError):
        choose_gpus([0], 2)


@pytest.mark.parametrize(
    ("preferred", "busy", "reserved", "port"),
    [
        (10005, set(), set(), 10005),  # the member's own port
        (10005, {10005}, set(), 10001),  # taken at that time: the lowest free
        (None, {10001}, {10002}, 10003),  # an unowned port before another member's own
        (None, {10001, 10003}, {10002}, 10002),  # no unowned port free: the own one is lent
        (None, set(range(10001, 10004)), set(), None),  # range exhausted
    ],
)
def test_port_choice(preferred: int | None, busy: set[int], reserved: set[int],
                     port: int | None) -> None:
    assert choose_port(preferred=preferred, port_range=(10001, 10003), busy=frozenset(busy),
                       reserved=frozenset(reserved)) == port


# Two NVLink islands of four, as on a two-board eight-GPU server.
ISLANDS = frozenset(frozenset((a, b)) for group in ((0, 1, 2, 3), (4, 5, 6, 7))
                    for a in group for b in group if a < b)


@pytest.mark.parametrize(
    ("free", "count", "chosen"),
    [
        ([1, 3, 4, 6], 2, (1, 3)),  # not the consecutive 3,4 across the boards
        ([0, 1, 2, 4, 5], 2, (4, 5)),  # the smallest island that holds it whole
        ([0, 1, 2, 3, 4, 5, 6, 7], 4, (0, 1, 2, 3)),
        ([2, 3, 4], 3, (2, 3, 4)),  # no island is big enough: the run rule
        ([1, 3, 4, 6], 1, (1,)),  # one GPU needs no link
    ],
)
def test_multi_gpu_requests_stay_within_an_nvlink_island(
    free: list[int], count: int, chosen: tuple[int, ...]
) -> None:
    assert choose_gpus(free, count, ISLANDS) == chosen


def test_a_booking_gets_gpus_that_share_an_nvlink() -> None:
    from core.domain.model import Resources
    from core.services.capacity import BookingRequest
    from tests.factories import fake_service

    pairs = frozenset({frozenset((0, 2)), frozenset((1, 3))})
    service, _ = fake_service(nvlinks=pairs)
    booking = service.book(BookingRequest("alice", Resources(1, 1, 2), "now", "1-day"))
    assert booking.gpu_ids == (0, 2)
