"""load_config as the admin meets it: one line naming the file, the key and what works."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from core.domain.config import ConfigError
from core.runtime.config_file import load_config
from tests.factories import config_data, write_config


def problem(tmp_path: Path, text: str | None = None, **overrides: Any) -> str:
    path = tmp_path / "booking.yaml"
    if text is None:
        write_config(path, **overrides)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message.removeprefix(f"{path}: ")


def limits(**default: Any) -> dict[str, Any]:
    return {"default": {**config_data()["limits"]["default"], **default}}


def test_the_shipped_file_loads() -> None:
    config = load_config(Path(__file__).parents[2] / "cfg" / "booking.yaml")
    assert config.server.name == "gpu1"
    assert config.booking.default_request == {"cpus": 4, "memory": 16, "gpus": 0}


@pytest.mark.parametrize("value", [-3, -0.5])
def test_a_negative_limit_is_refused(tmp_path: Path, value: float) -> None:
    assert problem(tmp_path, limits=limits(cpus=value)) == (
        f"limits.default.cpus: use a number >= 0 or `max`, not {value}"
    )


def test_a_limit_names_only_the_files_keys_and_says_number_or_max(tmp_path: Path) -> None:
    message = problem(tmp_path, limits=limits(memory="MAX"))
    assert message == "limits.default.memory: use a number >= 0 or `max`, not 'MAX'"
    for branch in (".float", "literal[", "function-", ".int"):
        assert branch not in message
    users = {"default": {"cpus": 8}, "users": {"float": {"gpus": "lots"}}}
    assert problem(tmp_path, limits=users) == (
        "limits.users.float.gpus: use a number >= 0 or `max`, not 'lots'"  # a member named float
    )


def test_max_and_numbers_still_load(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "c.yaml", limits=limits(cpus="max", memory=0)))
    assert (config.limits.default.cpus, config.limits.default.memory) == ("max", 0)


def test_the_default_request_needs_a_cpu_and_memory(tmp_path: Path) -> None:
    assert problem(tmp_path, booking={"default_request": {"cpus": 0, "memory": 4}}) == (
        "booking.default_request.cpus: Input should be greater than or equal to 1"
    )
    assert problem(tmp_path, booking={"default_request": {"cpus": 1, "memory": -1}}) == (
        "booking.default_request.memory: Input should be greater than or equal to 1"
    )
    assert problem(tmp_path, booking={"default_request": {"cpus": 0, "memory": -1}}).endswith(
        "(and 1 more problem)"
    )
    assert problem(tmp_path, booking={"default_request": {"gpus": -1}}) == (
        "booking.default_request.gpus: Input should be greater than or equal to 0"
    )
    assert problem(tmp_path, booking={"default_request": {"disk": 1}}) == (
        "booking.default_request.disk: unknown key"
    )


def test_a_partial_default_request_keeps_the_other_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "c.yaml", booking={"default_request": {"gpus": 1}}))
    assert config.booking.default_request == {"cpus": 4, "memory": 16, "gpus": 1}


@pytest.mark.parametrize("minutes", [45, 90, 7, 1000])
def test_slots_must_fit_the_clock(tmp_path: Path, minutes: int) -> None:
    assert problem(tmp_path, booking={"slot_minutes": minutes}) == (
        f"booking.slot_minutes: {minutes} does not fit the clock; use minutes that divide an hour "
        "(for example 15, 30 or 60) or whole hours that divide a day (120, 180, 240, 360, 480, "
        "720 or 1440)"
    )


@pytest.mark.parametrize("minutes", [15, 20, 30, 60, 120, 180, 480, 1440])
def test_slots_that_fit_the_clock_load(tmp_path: Path, minutes: int) -> None:
    config = load_config(write_config(tmp_path / "c.yaml", booking={"slot_minutes": minutes}))
    assert config.booking.slot_minutes == minutes


def test_booleans_are_not_numbers(tmp_path: Path) -> None:
    assert problem(tmp_path, capacity={"gpus": True}) == (
        "capacity.gpus: use `auto` or a whole number >= 0, not true"
    )
    assert problem(tmp_path, capacity={"swap": True}) == "capacity.swap: expected a number, not true"
    assert problem(tmp_path, capacity={"cpus": False}) == "capacity.cpus: expected a number, not false"
    assert problem(tmp_path, limits=limits(gpus=True)) == (
        "limits.default.gpus: use a number >= 0 or `max`, not true"
    )
    assert problem(tmp_path, booking={"default_request": {"gpus": True}}) == (
        "booking.default_request.gpus: expected a number, not true"
    )
    assert problem(tmp_path, scheduler={"workers": True}) == (
        "scheduler.workers: expected a number, not true"
    )


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_infinity_and_nan_are_refused_everywhere(tmp_path: Path, value: float) -> None:
    finite = "use a finite number, not .inf or .nan"
    assert problem(tmp_path, capacity={"cpus": value}) == f"capacity.cpus: {finite}"
    assert problem(tmp_path, capacity={"ram": value}).startswith("capacity.ram: ")
    assert problem(tmp_path, booking={"default_request": {"cpus": value}}) == (
        f"booking.default_request.cpus: {finite}"
    )
    assert problem(tmp_path, scheduler={"reconcile_seconds": value}) == (
        f"scheduler.reconcile_seconds: {finite}"
    )
    assert problem(tmp_path, limits=limits(cpus=value)).startswith(
        "limits.default.cpus: use a number >= 0 or `max`, not "
    )
    assert problem(tmp_path, capacity={"gpus": value}).startswith(
        "capacity.gpus: use `auto` or a whole number >= 0, not "
    )


def test_yaml_spellings_of_infinity_are_refused(tmp_path: Path) -> None:
    yaml_text = write_config(tmp_path / "base.yaml").read_text().replace("cpus: 16", "cpus: .inf")
    assert ".inf" in yaml_text
    assert problem(tmp_path, yaml_text) == "capacity.cpus: use a finite number, not .inf or .nan"


@pytest.mark.parametrize("name", ["", " ", "gpu 1", "-gpu", "x" * 33])
def test_the_server_name_is_a_short_word(tmp_path: Path, name: str) -> None:
    assert problem(tmp_path, server={"name": name}) == (
        f"server.name: {name!r} is not a short word; use up to 32 letters, digits, '.', '_' or "
        "'-', starting with a letter or digit (for example gpu1)"
    )


def test_capacity_gpus_takes_auto_or_a_count(tmp_path: Path) -> None:
    assert load_config(write_config(tmp_path / "a.yaml", capacity={"gpus": "auto"})).capacity.gpus == "auto"
    assert load_config(write_config(tmp_path / "b.yaml", capacity={"gpus": 2})).capacity.gpus == 2
    assert problem(tmp_path, capacity={"gpus": 1.5}) == (
        "capacity.gpus: use `auto` or a whole number >= 0, not 1.5"
    )


def test_missing_and_unknown_keys(tmp_path: Path) -> None:
    assert problem(tmp_path, "capacity: {cpus: 4}\nimages: {default: a, allowed: [a]}\n") == (
        "capacity.ram: required key is missing"
    )
    assert problem(tmp_path, limits={"default": {"cpu": 4}}) == "limits.default.cpu: unknown key"
