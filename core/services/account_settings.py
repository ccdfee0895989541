"""A member's maxima and own settings: the limits an admin sets, and the time zone,
SSH keys, port, image and command a member keeps between bookings."""

from __future__ import annotations

import math

from core.domain import refusals
from core.domain.extra_command import check_extra_command
from core.domain.member_settings import (
    check_key_count,
    check_ssh_key,
    check_ssh_keys,
    check_timezone,
)
from core.domain.model import Account, Resources
from core.domain.quota import QUOTA_KEYS
from core.services.accounts import LIMIT_KEYS, AccountService
from core.services.ports import UnitOfWork


class AccountSettingsService(AccountService):
    def limits_of(self, account: Account) -> Resources:
        """The member's maxima: admin-set values, then config, then the default."""
        config_user = self.config.limits.users.get(account.name)
        values = []
        for key in LIMIT_KEYS:
            value = account.limits.get(key)
            if value is None and config_user is not None:
                value = getattr(config_user, key)
            if value is None:
                value = getattr(self.config.limits.default, key)
            host_max = getattr(self.host, key)
            values.append(host_max if value in (None, "max") else min(float(value), host_max))
        return Resources(float(values[0]), int(values[1]), int(values[2]))

    def set_limits(self, name: str, values: dict[str, str]) -> Account:
        parsed: dict[str, float | int | str] = {}
        for key, text in values.items():
            if key not in (*LIMIT_KEYS, *QUOTA_KEYS):
                raise refusals.unknown_limit(key)
            if text == "max":
                parsed[key] = "max"
                continue
            try:  # cpus and the quotas (GB) may be fractional
                number = float(text) if key in ("cpus", *QUOTA_KEYS) else int(text)
            except ValueError:
                raise refusals.limit_not_a_number(key, text) from None
            if not math.isfinite(number):  # nan or inf would switch the maximum's check off
                raise refusals.limit_not_finite(key, text)
            if number < 0:
                raise refusals.limit_negative(key)
            parsed[key] = number
        with self._uow() as uow:
            account = self._existing(uow, name)
            account.limits = {**account.limits, **parsed}
            uow.accounts.save(account)
            uow.commit()
            return account

    def _image(self, account: Account, wanted: str | None) -> str:
        image = wanted or account.image or self.config.images.default
        if image not in self.config.images.allowed:
            raise refusals.image_not_allowed(image, self.config.images.allowed)
        return image

    def set_timezone(self, name: str, zone_name: str) -> Account:
        """Record the member's time zone (an IANA name, e.g. from their chat profile)."""
        check_timezone(zone_name)
        with self._uow() as uow:
            account = self._existing(uow, name)
            if account.timezone != zone_name:
                account.timezone = zone_name
                uow.accounts.save(account)
                uow.commit()
            return account

    def update_member(
        self, name: str, *, ssh_keys: str | None = None, add_ssh_key: str | None = None,
        timezone: str | None = None, port: int | None = None, image: str | None = None,
        command: str | None = None,
    ) -> Account:
        """Change a member's own settings; each value is checked first."""
        with self._uow() as uow:
            account = self._existing(uow, name)
            if ssh_keys is not None:
                account.ssh_keys = check_ssh_keys(ssh_keys)
            if add_ssh_key is not None:
                key = check_ssh_key(add_ssh_key)
                keys = [k for k in account.ssh_keys.splitlines() if k]
                account.ssh_keys = "\n".join(keys if key in keys else check_key_count([*keys, key]))
            if timezone is not None:
                account.timezone = check_timezone(timezone)
            if port is not None:
                account.preferred_port = self._own_port(uow, account, port)
            if image is not None:
                account.image = self._image(account, image) if image else None
            if command is not None:
                account.command = check_extra_command(command)
            uow.accounts.save(account)
            uow.commit()
            return account

    def _own_port(self, uow: UnitOfWork, account: Account, port: int) -> int:
        low, high = self.config.booking.ports
        if not low <= port <= high:
            raise refusals.port_outside(port, low, high)
        if port in uow.accounts.reserved_ports(except_name=account.name):
            raise refusals.port_of_another_member(port)
        return port
