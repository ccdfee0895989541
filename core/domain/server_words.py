"""`on gpu2` in a booking request: the pool's server it names (config `servers:`).

Read from the words of a line (str.split: linear); a line over the request limit is
refused before anything reads it (core.domain.request_line.check_length). A word after
`on` that is one of the configured names names that server; a word shaped like a
server's name (a letter first, a digit in it: `gpu9`) names an unknown server, which
the pool refuses with the names it has. Other words (`on monday`) stay for the times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.domain.request_line import check_length

_SHAPED = re.compile(r"[a-z][a-z0-9_.-]{0,40}")


def _names_server(word: str, names: dict[str, str]) -> str | None:
    if word.lower() in names:
        return names[word.lower()]
    if _SHAPED.fullmatch(word.lower()) and any(c.isdigit() for c in word):
        return word
    return None


def split_server(text: str, names: Sequence[str]) -> tuple[str, str | None]:
    """`1 gpu now 1-day on gpu2` -> (`1 gpu now 1-day`, `gpu2`); (text, None) when no
    server is named. The last `on NAME` counts; the name as configured when it is one."""
    check_length(text)
    known = {name.lower(): name for name in names}
    words = text.split()
    for k in range(len(words) - 2, -1, -1):
        if words[k].lower() == "on":
            server = _names_server(words[k + 1], known)
            if server is not None:
                return " ".join(words[:k] + words[k + 2:]), server
    return text, None
