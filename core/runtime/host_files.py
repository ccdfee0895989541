"""The lifecycle's MemberFiles port on the host's file system."""

from __future__ import annotations

from core.runtime import member_files, member_tar
from core.runtime.backup_files import load_plan
from core.runtime.quota_scan import over_quota


class HostMemberFiles:
    """core.services.lifecycle_ports.MemberFiles over the real folders."""

    member_folders = staticmethod(member_files.member_folders)
    load_plan = staticmethod(load_plan)
    entry_kind = staticmethod(member_files.entry_kind)
    tree_bytes = staticmethod(member_files.tree_bytes)
    staging_folder = staticmethod(member_tar.staging_folder)
    remove_staging = staticmethod(member_tar.remove_staging)
    extract = staticmethod(member_tar.extract)
    move_into_place = staticmethod(member_tar.move_into_place)
    over_quota = staticmethod(over_quota)
