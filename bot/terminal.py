"""The terminal chat adapter: lines in, the conversation engine's replies out."""

from __future__ import annotations

import sys
from typing import TextIO

from core.chat.conversation import ConversationEngine
from core.domain.model import Account


def run_chat(
    engine: ConversationEngine, account: Account, *, stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    if interactive:
        stdout.write(f"Hello {account.name}. Say `help` to see what I understand; Ctrl-D leaves.\n")
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        for reply in engine.handle(account, line):
            stdout.write(reply.text + "\n")
            for action in reply.actions:
                stdout.write(f"  [{action.label}] -> type: {action.command}\n")
        stdout.flush()
