"""A member's folders hold links to anywhere: the service (root) never goes through one.

Real files in a temporary tree: `host/` stands for the rest of the host (the
server's secret, root's ~/.ssh), `backup/` for the backup volume root.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from core.domain.backup_plan import TEMPLATE, BackupPlanError
from core.domain.files import BadArchive, Budget, OverBudget, UnsafePath
from core.runtime.backup_files import load_plan
from core.runtime.member_files import entry_kind, member_folder, read_file, tree_bytes
from core.runtime.member_tar import add_to_tar, extract, move_into_place, remove_staging, staging_folder


@pytest.fixture
def host(tmp_path: Path) -> Path:
    secret = tmp_path / "host"
    (secret / "ssh").mkdir(parents=True)
    (secret / "secret").write_text("the server secret\n")
    return secret


@pytest.fixture
def bob(tmp_path: Path) -> Path:
    return member_folder(tmp_path / "backup", "bob")


def _tar(*entries: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return buffer.getvalue()


def _link(name: str, target: str, *, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def _folder(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


def _save(data: bytes, bob: Path, relative: str, budget: int | None = None) -> None:
    staging = staging_folder(bob.parent)
    try:
        top = extract([data[:100], data[100:]], staging, Budget(budget))
        move_into_place(staging, top, bob, relative)
    finally:
        remove_staging(staging)


def test_a_backup_never_writes_through_a_link_the_member_planted(bob: Path, host: Path) -> None:
    (bob / "hostroot").symlink_to(host)  # `ln -s / /root/Backup/hostroot`
    with pytest.raises(UnsafePath):
        _save(_tar(("authorized_keys", b"ssh-ed25519 evil")), bob, "hostroot/ssh/authorized_keys")
    assert os.listdir(host / "ssh") == []

    # The link itself as the target is replaced by the copy, not written through.
    (bob / "keys").symlink_to(host / "ssh" / "authorized_keys")
    _save(_tar(("authorized_keys", b"ssh-ed25519 mine")), bob, "keys")
    assert (bob / "keys").read_bytes() == b"ssh-ed25519 mine" and not (bob / "keys").is_symlink()
    assert os.listdir(host / "ssh") == []


def test_an_archive_cannot_write_through_a_link_of_its_own(bob: Path, host: Path) -> None:
    archive = _tar(_folder("conda"), _link("conda/up", str(host)),
                   ("conda/up/secret", b"overwritten"), )
    with pytest.raises(UnsafePath):
        _save(archive, bob, "conda")
    assert (host / "secret").read_text() == "the server secret\n"
    assert entry_kind(bob, "conda") is None  # nothing half-made in the backup folder


def test_links_inside_a_backed_up_tree_are_kept_as_links(bob: Path) -> None:
    archive = _tar(_folder("env"), ("env/python3.11", b"ELF"), _link("env/python", "/usr/bin/python3"),
                   _link("env/python3", "python3.11"), _link("env/hard", "env/python3.11", hard=True))
    _save(archive, bob, "env")
    assert os.readlink(bob / "env" / "python") == "/usr/bin/python3"  # absolute: kept, not dropped
    assert os.readlink(bob / "env" / "python3") == "python3.11"
    assert (bob / "env" / "hard").read_bytes() == b"ELF"
    assert (bob / "env" / "hard").stat().st_ino == (bob / "env" / "python3.11").stat().st_ino


@pytest.mark.parametrize("entries", [
    [("out/../../escape.txt", b"x")],
    [("/etc/escape.txt", b"x")],
    [("out/a.txt", b"x"), ("other/b.txt", b"y")],
    [_folder("out"), _link("out/h", "../../../etc/passwd", hard=True)],
])
def test_unsafe_archives_are_refused_and_leave_nothing(
    entries: list[tarfile.TarInfo | tuple[str, bytes]], bob: Path, tmp_path: Path
) -> None:
    with pytest.raises(BadArchive):
        _save(_tar(*entries), bob, "out")
    assert os.listdir(bob) == []
    assert os.listdir(tmp_path / "backup" / ".booking-staging") == []
    assert not (tmp_path / "escape.txt").exists()


def test_a_copy_stops_at_the_budget(bob: Path) -> None:
    (bob / "big").write_bytes(b"old copy")
    archive = _tar(_folder("big"), ("big/a", b"x" * 4000), ("big/b", b"y" * 4000))
    with pytest.raises(OverBudget):
        _save(archive, bob, "big", budget=6000)
    assert (bob / "big").read_bytes() == b"old copy"  # the only copy is kept
    _save(archive, bob, "big", budget=10_000)
    assert tree_bytes(bob, "big") == 8000


def test_restore_reads_no_file_through_a_link(bob: Path, host: Path) -> None:
    (bob / "conf").symlink_to(host)  # a planned path under a linked folder
    with tarfile.open(fileobj=io.BytesIO(), mode="w") as tar, pytest.raises(UnsafePath):
        add_to_tar(tar, bob, "conf/secret", "secret")
    (bob / "rc").symlink_to(host / "secret")  # the planned path itself: a link, kept as one
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        add_to_tar(tar, bob, "rc", "root/.bashrc")
    with tarfile.open(fileobj=io.BytesIO(buffer.getvalue())) as tar:
        (member,) = tar.getmembers()
    assert member.issym() and member.linkname == str(host / "secret")
    assert b"the server secret" not in buffer.getvalue()


def test_restore_skips_fifos_and_keeps_files_owned_by_root(bob: Path) -> None:
    (bob / "tree").mkdir()
    (bob / "tree" / "data").write_text("mine")
    os.mkfifo(bob / "tree" / "pipe")  # opening it would block the service
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        add_to_tar(tar, bob, "tree", "tree")
    with tarfile.open(fileobj=io.BytesIO(buffer.getvalue())) as tar:
        names = {m.name: (m.uid, m.mode & 0o7000) for m in tar.getmembers()}
    assert names == {"tree": (0, 0), "tree/data": (0, 0)}


def test_backup_yaml_is_never_read_or_made_through_a_link(bob: Path, host: Path) -> None:
    (bob / "backup.yaml").symlink_to(host / "secret")
    with pytest.raises(BackupPlanError, match="symbolic link"):
        load_plan(bob)
    (bob / "backup.yaml").unlink()
    (bob / "backup.yaml").symlink_to(host / "ssh" / "authorized_keys")  # dangling
    with pytest.raises(BackupPlanError, match="symbolic link"):
        load_plan(bob)
    assert os.listdir(host / "ssh") == []  # the template was not written through it
    (bob / "backup.yaml").unlink()
    assert load_plan(bob) == load_plan(bob)  # made once, from the template
    assert (bob / "backup.yaml").read_text() == TEMPLATE


def test_a_fifo_or_huge_backup_yaml_is_refused_without_blocking(bob: Path) -> None:
    os.mkfifo(bob / "backup.yaml")
    with pytest.raises(BackupPlanError, match="not a regular file"):
        load_plan(bob)
    os.unlink(bob / "backup.yaml")
    (bob / "backup.yaml").write_bytes(b"#" * 100_000)
    with pytest.raises(BackupPlanError, match="larger than"):
        load_plan(bob)
    (bob / "backup.yaml").write_bytes(b"Dir:\n  - [a, /root/\xff]\n")
    with pytest.raises(BackupPlanError, match="line 2: not UTF-8"):
        load_plan(bob)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../bob", "x\0y"])
def test_a_member_folder_is_one_folder_under_its_root(name: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePath):
        member_folder(tmp_path / "work", name)
    assert not (tmp_path / "work").exists() or os.listdir(tmp_path / "work") == []


def test_a_member_folder_that_is_a_link_is_refused(tmp_path: Path, host: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "bob").symlink_to(host)
    with pytest.raises(UnsafePath):
        member_folder(tmp_path / "work", "bob")


def test_reading_and_sizes_do_not_follow_links(bob: Path, host: Path) -> None:
    (bob / "up").symlink_to(host)
    with pytest.raises(UnsafePath):
        read_file(bob, "up/secret", limit=100)
    assert tree_bytes(bob) == len(str(host))  # the link's own size, not the host's files
    assert entry_kind(bob, "up") == "link" and entry_kind(bob, "up/secret") is None


def test_a_folder_entry_after_a_link_of_the_same_name_is_refused(bob: Path, host: Path) -> None:
    host.chmod(0o755)
    archive = _tar(_folder("tree"), _link("tree/x", str(host)), _folder("tree/x"),
                   ("tree/x/secret", b"overwritten"))
    with pytest.raises(UnsafePath):
        _save(archive, bob, "tree")
    assert (host / "secret").read_text() == "the server secret\n"
    assert host.stat().st_mode & 0o777 == 0o755  # not chmod-ed through the link
