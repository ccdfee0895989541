"""Who runs the command, and whom they may act for.

Root and the service's user (the owner of the data folder) may act for any member;
anyone else only as their own login (`--user` is checked against it) unless that login
is an admin account.
"""

from __future__ import annotations

import os
import pwd

from bot import bootstrap
from core.domain.model import ErrorCode, Refusal


def caller_login() -> str:
    """The login of the user running this process, from the password database
    (not from $USER or $LOGNAME, which the caller sets)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def trusted_caller(app: bootstrap.App) -> bool:
    """Root, or the service's user: the owner of the data folder (which holds the secret)."""
    uid = os.getuid()
    if uid == 0:
        return True
    environment = app.environment or bootstrap.Environment()
    try:
        return environment.booking_data_dir.stat().st_uid == uid
    except OSError:
        return False


def caller_is_admin(app: bootstrap.App, login: str) -> bool:
    try:
        return app.service.is_admin(app.service.account(login))
    except Refusal:
        return False


def acting_as(app: bootstrap.App, user_name: str) -> str:
    """`user_name`, when the caller may act as that member: root and the service's
    user may act as anyone, others as their own login unless that login is an admin."""
    if trusted_caller(app):
        return user_name
    login = caller_login()
    if user_name == login or caller_is_admin(app, login):
        return user_name
    raise Refusal(
        ErrorCode.NOT_OWNER,
        f"You are logged in as `{login}`, so `--user` must be `{login}`; only root, the "
        "service's user or an admin account may act for another member.",
    )


def require_admin_caller(app: bootstrap.App) -> None:
    """Account administration: root, the service's user, or a login with an admin account."""
    if trusted_caller(app):
        return
    login = caller_login()
    if not caller_is_admin(app, login):
        raise Refusal(
            ErrorCode.NOT_OWNER,
            f"Managing accounts needs root, the service's user or an admin account; "
            f"`{login}` is none of them.",
        )
