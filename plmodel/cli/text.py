"""Terminal text: no output line wider than 100 characters (a long line wraps at a space, its continuation
indented under it)."""

from __future__ import annotations

import textwrap

WIDTH = 100


def fit(lines: list, width: int = WIDTH) -> list:
    """`lines` with each line longer than `width` wrapped at spaces, continuations indented 4 more."""
    out = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        lead = " " * (len(line) - len(line.lstrip()))
        out += textwrap.wrap(line.strip(), width, initial_indent=lead, subsequent_indent=lead + "    ",
                             break_long_words=False, break_on_hyphens=False) or [line]
    return out
