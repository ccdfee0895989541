"""The member's SSH keys merged into an authorized_keys restored from their backup."""

from __future__ import annotations

import threading

from core.runtime.container_files import merged_keys


def test_keys_already_there_are_kept_and_new_ones_added_once() -> None:
    existing = b"ssh-ed25519 AAAAold old@laptop\n\n# a comment\n"
    keys = ("ssh-ed25519 AAAAnew bob@laptop\n  ssh-ed25519 AAAAold old@laptop \n"
            "ssh-ed25519 AAAAnew bob@laptop\n")
    assert merged_keys(existing, keys).decode().splitlines() == [
        "ssh-ed25519 AAAAold old@laptop", "# a comment", "ssh-ed25519 AAAAnew bob@laptop",
    ]


def test_no_existing_file_gives_just_the_members_keys() -> None:
    assert merged_keys(b"", "ssh-ed25519 AAAAnew bob@laptop") == b"ssh-ed25519 AAAAnew bob@laptop\n"


def test_a_hostile_restored_file_and_many_keys_are_merged_without_stalling_the_start() -> None:
    # 256 KB of one-character lines (the most lines _read_small lets through) and
    # 10,000 keys: checking each key against a list of the lines took ten seconds.
    existing = b"x\n" * (128 * 1024)
    keys = "\n".join(f"ssh-ed25519 AAAA{i} key{i}" for i in range(10_000))
    result: list[bytes] = []
    worker = threading.Thread(target=lambda: result.append(merged_keys(existing, keys)), daemon=True)
    worker.start()
    worker.join(timeout=3)  # a generous guard: the merge itself takes milliseconds
    assert result, "merging the keys did not finish"
    lines = result[0].decode().splitlines()
    assert len(lines) == 128 * 1024 + 10_000
    assert lines[-1] == "ssh-ed25519 AAAA9999 key9999"
