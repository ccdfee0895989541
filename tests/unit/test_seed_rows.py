"""The old system's rows and maxima in our terms (core/domain/seed_rows.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.domain.model import Resources
from core.domain.seed_rows import BOOKED_CSV, OldRow, RawSeed, parse_row, plan_seed

ROW = {"start": "2026-03-04 10:00:00", "end": "2026-03-05 10:00:00", "user_id": "s001",
       "cpus": "8.0", "memory": "32", "gpus": "[0, 1]", "forward_port": "10007",
       "image": "lab/gpu:cuda11", "extra_command": "python train.py > log"}


@pytest.mark.parametrize(("gpus", "ids"), [("[]", ()), ("[5]", (5,)), ("[0, 1]", (0, 1)),
                                           (" [ 2,3 ] ", (2, 3))])
def test_gpu_lists_as_pandas_wrote_them(gpus: str, ids: tuple[int, ...]) -> None:
    row = parse_row(BOOKED_CSV, 2, {**ROW, "gpus": gpus})
    assert isinstance(row, OldRow)
    assert row.gpu_ids == ids and row.resources == Resources(8.0, 32, len(ids))


def test_a_whole_row() -> None:
    assert parse_row(BOOKED_CSV, 3, ROW) == OldRow(
        BOOKED_CSV, 3, "s001", datetime(2026, 3, 4, 10), datetime(2026, 3, 5, 10),
        Resources(8.0, 32, 2), (0, 1), 10007, "lab/gpu:cuda11", "python train.py > log")


@pytest.mark.parametrize(("change", "problem"), [
    ({"gpus": "[0, x]"}, "gpus '[0, x]' is not a list of GPU ids such as [0, 1]"),
    ({"gpus": "[1, 1]"}, "gpus '[1, 1]' names a GPU twice or too many GPUs"),
    ({"cpus": "nan"}, "cpus 'nan' is not a number from 0 to 10000"),
    ({"memory": "1e9"}, "memory '1e9' is not a whole number of GB up to 1000000"),
    ({"memory": "99999999999999999999"},
     "memory '99999999999999999999' is not a whole number of GB up to 1000000"),
    ({"extra_command": "x" * 2001}, "image or extra_command is too long"),
    ({"forward_port": "70000"}, "forward_port '70000' is not a port number"),
    ({"end": "2026-03-04 09:00:00"}, "end is not after start"),
    ({"start": "2026/03/04"}, "start '2026/03/04' is not YYYY-MM-DD hh:mm:ss"),
])
def test_a_bad_row_says_what_is_wrong(change: dict[str, str], problem: str) -> None:
    assert parse_row(BOOKED_CSV, 2, {**ROW, **change}) == problem


def test_max_keeps_its_old_meaning() -> None:
    capability = {
        "max": {"cpus": 48, "ram": 64, "swap_size": 16, "gpus": 8, "memory": "ram + swap_size",
                "backup_space": 100, "work_space": 300},
        "allow_userIDs": ["s001", 20231234, {"s002": None}],
        "max_default_capability": {"cpus": 4, "memory": 16, "gpus": 1, "backup_space": "max"},
        "max_custom_capability": {"s001": {"cpus": "max", "gpus": 2, "work_space": "max",
                                           "disk": 9}},
    }
    plan = plan_seed(RawSeed(None, capability, {}, {}, []))
    assert [m.name for m in plan.members] == ["s001", "20231234"]
    # cpus `max` is the host's cpus here too; a space's `max` was the old host's value in GB.
    assert plan.limits == {"s001": {"cpus": "max", "gpus": 2.0, "work_space": 300.0}}
    assert plan.snippet["limits"] == {"default": {"cpus": 4, "memory": 16, "gpus": 1,
                                                  "backup_space": 100}}
    assert plan.snippet["capacity"] == {"cpus": 48, "ram": 64, "swap": 16, "gpus": 8}
    assert plan.problems == [
        "cfg/capability_config.yaml: allow_userIDs: expected a list of ids; what is not an id "
        "is left out",
        "cfg/capability_config.yaml: max_custom_capability.s001.disk: unknown key; use cpus, "
        "memory, gpus, work_space, backup_space"]
    assert plan.notes == []
