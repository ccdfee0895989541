"""DockerRuntime against a real Docker engine and the tiny SSH image.

Fixtures come from tests.support.docker_fixtures (loaded by tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
import pytest

from core.domain.container import (
    BOOKING_LABEL,
    MANAGED_LABEL,
    SERVER_LABEL,
    ContainerError,
    ContainerSpec,
    Mount,
    RestoreCopy,
)
from core.domain.files import Budget
from core.runtime.docker_runtime import DockerRuntime
from core.runtime.member_tar import extract, move_into_place, remove_staging, staging_folder
from core.runtime.ssh_probe import wait_for_ssh
from tests.support.docker_fixtures import free_tcp_port, ssh_run, unique_container_name

pytestmark = pytest.mark.docker

GIB = 1024**3
PASSWORD = "s3cret-Pass"
SpecFactory = Callable[..., ContainerSpec]


@pytest.fixture
def runtime(docker_host: str) -> DockerRuntime:
    return DockerRuntime(base_url=docker_host)


@pytest.fixture
def make_spec(ssh_image: str, container_names: list[str]) -> SpecFactory:
    """Build a spec with a fresh name (removed after the test) and port."""

    def factory(**overrides: object) -> ContainerSpec:
        name = unique_container_name()
        container_names.append(name)
        values: dict[str, object] = {
            "name": name,
            "image": ssh_image,
            "labels": {MANAGED_LABEL: "true", BOOKING_LABEL: "42"},
            "cpus": 0.5,
            "ram_gb": 1,
            "memory_gb": 1,
            "shm_gb": 0,
            "gpu_ids": (),
            "ssh_port": free_tcp_port(),
            "mounts": (),
            "environment": {"PASSWORD": PASSWORD},
        }
        values.update(overrides)
        return ContainerSpec(**values)  # type: ignore[arg-type]

    return factory


def _save(runtime: DockerRuntime, name: str, container_path: str, root: Path,
          relative: str) -> None:
    """Copy a container path to root/relative the way the end of a booking does."""
    root.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(root.parent)
    try:
        top = extract(runtime.archive(name, container_path), staging, Budget(None))
        move_into_place(staging, top, root, relative)
    finally:
        remove_staging(staging)


def _exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.containers.get(name)
    except docker.errors.NotFound:
        return False
    return True


def test_start_applies_limits_mounts_and_port(
    runtime: DockerRuntime,
    make_spec: SpecFactory,
    docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:
    home, dataset = tmp_path / "home", tmp_path / "dataset"
    home.mkdir()
    dataset.mkdir()
    (dataset / "data.txt").write_text("read me\n")
    spec = make_spec(
        cpus=1.5,
        ram_gb=3,
        memory_gb=4,
        shm_gb=1,
        mounts=(
            Mount(str(home), "/root/work"),
            Mount(str(dataset), "/dataset", read_only=True),
        ),
    )
    runtime.start(spec)

    host_config = docker_client.containers.get(spec.name).attrs["HostConfig"]
    assert host_config["NanoCpus"] == 1_500_000_000
    assert host_config["Memory"] == 3 * GIB
    assert host_config["MemorySwap"] == 4 * GIB
    assert host_config["ShmSize"] == 1 * GIB
    assert f"{dataset}:/dataset:ro" in host_config["Binds"]
    assert f"{home}:/root/work:rw" in host_config["Binds"]
    assert host_config["PortBindings"]["22/tcp"] == [
        {"HostIp": "0.0.0.0", "HostPort": str(spec.ssh_port)}
    ]
    assert host_config["RestartPolicy"]["Name"] in ("no", "")
    assert not host_config.get("DeviceRequests")
    assert runtime.is_running(spec.name)

    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)
    result = ssh_run(
        spec.ssh_port,
        PASSWORD,
        "echo hello; cat /dataset/data.txt; echo x > /root/work/made-in-container; "
        "touch /dataset/nope 2>/dev/null || echo read-only",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["hello", "read", "me", "read-only"]
    assert (home / "made-in-container").read_text() == "x\n"


def test_wrong_password_is_refused(runtime: DockerRuntime, make_spec: SpecFactory) -> None:
    spec = make_spec()
    runtime.start(spec)
    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)
    result = ssh_run(spec.ssh_port, "wrong", "echo hello")
    assert result.returncode != 0
    assert "hello" not in result.stdout


def test_command_runs_and_copy_out_reaches_host(
    runtime: DockerRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    script = (
        "mkdir -p /root/out/sub && echo one > /root/out/a.txt && echo two > /root/out/sub/b.txt"
    )
    spec = make_spec(command=("sh", "-c", script))
    runtime.start(spec)
    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)

    backup = tmp_path / "backup"
    _save(runtime, spec.name, "/root/out/a.txt", backup, "nested/a-copy.txt")
    assert (backup / "nested" / "a-copy.txt").read_text() == "one\n"

    folder_target = backup / "out-copy"
    _save(runtime, spec.name, "/root/out", backup, "out-copy")
    assert (folder_target / "a.txt").read_text() == "one\n"
    assert (folder_target / "sub" / "b.txt").read_text() == "two\n"

    # A second copy replaces the first; no scratch folders are left behind.
    _save(runtime, spec.name, "/root/out", backup, "out-copy")
    assert sorted(os.listdir(backup)) == ["nested", "out-copy"]
    assert os.listdir(tmp_path / ".booking-staging") == []


def test_copy_out_of_missing_path_is_not_retryable(
    runtime: DockerRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    spec = make_spec()
    runtime.start(spec)
    with pytest.raises(ContainerError) as caught:
        _save(runtime, spec.name, "/no/such/file", tmp_path / "backup", "x")
    assert not caught.value.retryable
    assert not (tmp_path / "backup" / "x").exists()


def test_gpu_request_without_nvidia_runtime_fails_cleanly(
    runtime: DockerRuntime,
    make_spec: SpecFactory,
    docker_client: docker.DockerClient,
) -> None:
    info = docker_client.info()
    if "nvidia" in (info.get("Runtimes") or {}):
        pytest.skip("this engine has the NVIDIA runtime")
    spec = make_spec(gpu_ids=(0,))
    with pytest.raises(ContainerError) as caught:
        runtime.start(spec)
    assert not caught.value.retryable
    assert "nvidia" in str(caught.value)
    assert not _exists(docker_client, spec.name)


def test_missing_image_is_not_retryable(
    runtime: DockerRuntime, make_spec: SpecFactory, docker_client: docker.DockerClient
) -> None:
    spec = make_spec(image="server-booking-test/does-not-exist:1")
    with pytest.raises(ContainerError) as caught:
        runtime.start(spec)
    assert not caught.value.retryable
    assert "server-booking-test/does-not-exist:1" in str(caught.value)
    assert not _exists(docker_client, spec.name)


def test_unreachable_engine_is_retryable(make_spec: SpecFactory, tmp_path: Path) -> None:
    runtime = DockerRuntime(base_url=f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(ContainerError) as caught:
        runtime.start(make_spec())
    assert caught.value.retryable


def test_start_is_idempotent_and_starts_a_stopped_container_again(
    runtime: DockerRuntime, make_spec: SpecFactory, docker_client: docker.DockerClient
) -> None:
    spec = make_spec()
    runtime.start(spec)
    first_id = docker_client.containers.get(spec.name).id
    runtime.start(spec)  # already running: nothing happens
    assert docker_client.containers.get(spec.name).id == first_id
    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)
    assert ssh_run(spec.ssh_port, PASSWORD, "echo kept > /root/outside.txt").returncode == 0

    docker_client.containers.get(spec.name).stop(timeout=0)
    assert not runtime.is_running(spec.name)
    runtime.start(spec)  # stopped: the same container is started again
    assert docker_client.containers.get(spec.name).id == first_id
    assert runtime.is_running(spec.name)
    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)
    assert ssh_run(spec.ssh_port, PASSWORD, "cat /root/outside.txt").stdout == "kept\n"


def test_a_never_started_container_of_the_same_spec_is_made_anew(
    runtime: DockerRuntime, make_spec: SpecFactory, docker_client: docker.DockerClient
) -> None:
    """Created but not started (a crash between create and start): its restore may be
    incomplete, so it is replaced, not started."""
    spec = make_spec()
    half_made = runtime._create(spec)
    runtime.start(spec)
    container = docker_client.containers.get(spec.name)
    assert container.id != half_made.id and runtime.is_running(spec.name)


def test_restored_files_are_copies_the_member_can_edit_replace_and_delete(
    runtime: DockerRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    (backup / "ssh").mkdir(parents=True)
    (backup / "ssh" / "config").write_text("Host *\n")
    (backup / "bashrc").write_text("export A=1\n")
    (backup / "leak").symlink_to("/etc/hostname")  # a link is copied as a link, not followed
    spec = make_spec(restore=(
        RestoreCopy(str(backup), "bashrc", "/root/.bashrc"),
        RestoreCopy(str(backup), "ssh", "/root/.ssh"),
        RestoreCopy(str(backup), "bashrc", "/opt/new/deep/rc"),  # parents made as needed
        RestoreCopy(str(backup), "leak", "/root/leak"),
    ))
    assert runtime.start(spec) == []
    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)
    result = ssh_run(
        spec.ssh_port, PASSWORD,
        "sed -i s/A=1/A=2/ /root/.bashrc && cat /root/.bashrc && "
        "cat /root/.ssh/config /opt/new/deep/rc && stat -c %u /root/.bashrc && "
        "readlink /root/leak && rm /root/.ssh/config && echo removed",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n") == [
        "export A=2", "Host *", "export A=1", "0", "/etc/hostname", "removed", ""]
    assert (backup / "bashrc").read_text() == "export A=1\n"  # the backup is untouched

    runtime.stop(spec.name, grace_seconds=1)
    _save(runtime, spec.name, "/root/.bashrc", backup, "bashrc")  # from the stopped container
    assert (backup / "bashrc").read_text() == "export A=2\n"


def test_a_restore_the_engine_refuses_is_reported_and_the_container_runs(
    runtime: DockerRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("x\n")
    spec = make_spec(restore=(RestoreCopy(str(tmp_path), "file", "/etc/passwd/inside"),))
    assert runtime.start(spec) == ["/etc/passwd/inside"]
    assert runtime.is_running(spec.name)


def test_a_running_container_made_for_other_settings_is_made_anew(
    runtime: DockerRuntime, make_spec: SpecFactory, docker_client: docker.DockerClient
) -> None:
    """After a database reset, booking #1 must not take the old booking #1's container."""
    old = make_spec()
    runtime.start(old)
    old_id = docker_client.containers.get(old.name).id
    new = dataclasses.replace(old, environment={"PASSWORD": "another-password-123"})
    runtime.start(new)
    container = docker_client.containers.get(new.name)
    assert container.id != old_id
    assert "PASSWORD=another-password-123" in container.attrs["Config"]["Env"]
    assert ssh_run(new.ssh_port, "another-password-123", "echo in").stdout.strip() == "in"


def test_start_refuses_another_servers_container_of_the_same_name(
    runtime: DockerRuntime, make_spec: SpecFactory, docker_client: docker.DockerClient
) -> None:
    theirs = make_spec(labels={MANAGED_LABEL: "true", BOOKING_LABEL: "1", SERVER_LABEL: "gpu2"})
    runtime.start(theirs)
    ours = dataclasses.replace(
        theirs, labels={MANAGED_LABEL: "true", BOOKING_LABEL: "1", SERVER_LABEL: "gpu1"}
    )
    with pytest.raises(ContainerError) as caught:
        runtime.start(ours)
    assert "belongs to server 'gpu2'" in str(caught.value)
    assert not caught.value.retryable
    assert runtime.is_running(theirs.name)  # left alone


def test_start_refuses_foreign_container_of_same_name(
    runtime: DockerRuntime,
    make_spec: SpecFactory,
    docker_client: docker.DockerClient,
    ssh_image: str,
) -> None:
    spec = make_spec()
    foreign = docker_client.containers.create(ssh_image, name=spec.name)
    with pytest.raises(ContainerError) as caught:
        runtime.start(spec)
    assert not caught.value.retryable
    assert docker_client.containers.get(spec.name).id == foreign.id


def test_restart_and_stop_and_remove(
    runtime: DockerRuntime, make_spec: SpecFactory, docker_client: docker.DockerClient
) -> None:
    spec = make_spec()
    runtime.start(spec)
    runtime.restart(spec.name)
    assert runtime.is_running(spec.name)

    runtime.stop_and_remove(spec.name, grace_seconds=1)
    assert not _exists(docker_client, spec.name)
    assert not runtime.is_running(spec.name)
    runtime.stop_and_remove(spec.name, grace_seconds=1)  # already gone: fine

    with pytest.raises(ContainerError) as caught:
        runtime.restart(spec.name)
    assert not caught.value.retryable


def test_list_managed_finds_labeled_containers_only(
    runtime: DockerRuntime,
    make_spec: SpecFactory,
    docker_client: docker.DockerClient,
    container_names: list[str],
    ssh_image: str,
) -> None:
    running = make_spec(labels={MANAGED_LABEL: "true", BOOKING_LABEL: "7"})
    stopped = make_spec(labels={MANAGED_LABEL: "true"})
    runtime.start(running)
    runtime.start(stopped)
    docker_client.containers.get(stopped.name).stop(timeout=0)
    unlabeled = unique_container_name()
    container_names.append(unlabeled)
    docker_client.containers.create(ssh_image, name=unlabeled)

    found = {c.name: c for c in runtime.list_managed()}
    assert unlabeled not in found
    assert found[running.name].booking_id == 7
    assert found[running.name].running
    assert found[stopped.name].booking_id is None
    assert not found[stopped.name].running


def test_wait_for_ssh_is_false_without_a_server() -> None:
    assert not wait_for_ssh("127.0.0.1", free_tcp_port(), timeout=0.5)


def test_a_huge_restored_authorized_keys_is_not_read_and_the_member_s_keys_still_go_in(
    runtime: DockerRuntime, make_spec: SpecFactory, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    (backup / "ssh").mkdir(parents=True)
    (backup / "ssh" / "authorized_keys").write_bytes(b"#" * (3 * 1024 * 1024))  # the member's
    spec = make_spec(restore=(RestoreCopy(str(backup), "ssh", "/root/.ssh"),),
                     authorized_keys="ssh-ed25519 AAAAC3Nza bob@laptop")
    assert runtime.start(spec) == []
    assert wait_for_ssh("127.0.0.1", spec.ssh_port, timeout=30)
    result = ssh_run(spec.ssh_port, PASSWORD, "cat /root/.ssh/authorized_keys")
    assert result.stdout == "ssh-ed25519 AAAAC3Nza bob@laptop\n"
