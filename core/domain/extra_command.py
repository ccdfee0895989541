"""The member's extra command: checked when a booking or setting is made.

It runs as the old system ran it (`docker run ... IMAGE bash -c CMD`): through a
shell inside the member's own container (core/domain/container_spec.py), never on the
host. What is checked here is what would otherwise only show at the start, when
the container's shell refuses it: unbalanced quotes, and characters no shell line
holds.
"""

from __future__ import annotations

import shlex

from core.domain.model import ErrorCode, Refusal

MAX_COMMAND_CHARS = 2000


def check_extra_command(text: str | None) -> str | None:
    """The command as it will run (None for none), or a Refusal saying what works."""
    if text is None or not text.strip():
        return None
    command = text.strip()
    if len(command) > MAX_COMMAND_CHARS:
        raise Refusal(ErrorCode.BAD_INPUT,
                      f"The extra command is at most {MAX_COMMAND_CHARS} characters; put a longer "
                      "one in a script in your work folder and run that script.")
    if "\0" in command or "\n" in command or "\r" in command:
        raise Refusal(ErrorCode.BAD_INPUT,
                      "The extra command is one line; join commands with `&&` or `;`.")
    try:
        shlex.split(command)
    except ValueError:
        raise Refusal(ErrorCode.BAD_INPUT,
                      f"The extra command `{command}` has an unbalanced quote; close each ' and \" "
                      "(for example `cd run && python train.py --name 'my run'`).") from None
    return command
