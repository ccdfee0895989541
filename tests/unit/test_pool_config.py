"""`servers:` in booking.yaml: a pool of servers, each with its capacity and, where it
differs from the lab's, its ports, folders, images and limits; the one-server form
(`server:` + `capacity:`) keeps working as a pool of one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.domain.config import Config, ConfigError
from core.runtime.config_file import load_config


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "booking.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def pool(*servers: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {"servers": list(servers), "images": {"default": "a", "allowed": ["a"]}, **rest}


def problem(tmp_path: Path, data: dict[str, Any]) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).removeprefix(f"{path}: ")


GPU1 = {"name": "gpu1", "public_host": "gpu1.lab", "capacity": {"cpus": 32, "ram": 64, "gpus": 4}}
GPU2 = {"name": "gpu2", "public_host": "gpu2.lab", "capacity": {"cpus": 16, "ram": 32, "gpus": 2},
        "ports": [12001, 12100], "volumes": {"work": "/data/users"},
        "limits": {"default": {"cpus": 4, "memory": 8, "gpus": 1}}}


def test_each_server_is_seen_with_its_own_values_and_the_labs_elsewhere(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, pool(
        GPU1, GPU2, booking={"ports": [10001, 10100]},
        limits={"default": {"cpus": 8, "memory": 16, "gpus": 3}})))
    assert config.server_names == ("gpu1", "gpu2") and config.is_pool
    # As loaded, the file is seen from the first server.
    assert (config.server.name, config.capacity.gpus, config.booking.ports) == ("gpu1", 4, (10001, 10100))
    second = config.for_server("gpu2")
    assert second.server.public_host == "gpu2.lab"
    assert (second.capacity.cpus, second.capacity.gpus) == (16, 2)
    assert second.booking.ports == (12001, 12100)
    assert second.volumes.work == "/data/users" and second.volumes.backup == "/mnt/Backup"
    assert second.limits.default.gpus == 1
    assert second.images.default == "a"
    # Back again: nothing of gpu2's stays.
    again = second.for_server("gpu1")
    assert (again.booking.ports, again.volumes.work, again.limits.default.gpus) == (
        (10001, 10100), "/mnt/Users", 3)
    assert again.capacity.gpus == 4


def test_one_server_is_a_pool_of_one(tmp_path: Path) -> None:
    config = load_config(Path(__file__).parents[2] / "cfg" / "booking.yaml")
    assert config.server_names == ("gpu1",) and not config.is_pool
    assert config.servers[0].capacity == config.capacity
    assert config.servers[0].public_host == config.server.public_host


def test_the_two_forms_do_not_mix(tmp_path: Path) -> None:
    data = pool(GPU1, capacity={"cpus": 1, "ram": 1})
    assert problem(tmp_path, data).startswith("(top level): use either `servers:` (a pool)")
    assert problem(tmp_path, pool(GPU1, server={"name": "x"})).startswith(
        "(top level): use either `servers:`")
    assert problem(tmp_path, {"images": {"default": "a", "allowed": ["a"]}}) == (
        "(top level): add `capacity:` (one server) or `servers:` (a pool of servers)")


def test_each_servers_mistakes_are_named_by_their_place(tmp_path: Path) -> None:
    assert problem(tmp_path, pool(GPU1, {"name": "gpu2"})) == (
        "servers.1.capacity: required key is missing")
    assert problem(tmp_path, pool(GPU1, {**GPU2, "ports": [80, 90]})).startswith(
        "servers.1.ports: must be [low, high] with 1024 <= low")
    assert problem(tmp_path, pool(GPU1, {**GPU2, "name": "no spaces"})).startswith(
        "servers.1.name: 'no spaces' is not a short word")
    assert problem(tmp_path, pool(GPU1, {**GPU2, "name": "gpu1"})) == (
        "(top level): servers: gpu1 listed twice; give each server its own name")
    assert problem(tmp_path, pool(GPU1, {**GPU2, "colour": "red"})) == (
        "servers.1.colour: unknown key")


def test_a_dump_validates_again_in_either_form(tmp_path: Path) -> None:
    one = load_config(Path(__file__).parents[2] / "cfg" / "booking.yaml")
    pooled = load_config(write(tmp_path, pool(GPU1, GPU2)))
    for config in (one, pooled, one.model_copy(update={"admins": ["bob"]})):
        again = Config.model_validate(config.model_dump())
        assert again == config and again.servers == config.servers
    # Tests and benchmarks change a dumped file and load it again.
    data = one.model_dump()
    data["booking"]["slot_minutes"] = 1
    assert Config.model_validate(data).booking.slot_minutes == 1
