"""The one error type users see: a single line naming the input, the field and what was expected.

The core raises errors that carry the field in its own name (`rank_c2d`, `prompt_tokens`); each edge
names that field in its own words with `named` (a CLI option `--rank-c2d`, a sweep key
`field "ranks"`) and adds the file it read, so the core never knows who called it.
"""

from __future__ import annotations


class PlmodelError(Exception):
    """Bad input or an impossible request; the CLI prints `ERROR: <message>` and exits with status 2."""

    def __init__(self, message: str, source: str | None = None, field: str | None = None, label: str | None = None):
        self.message = " ".join(str(message).split())  # one line, whatever a parser's message held
        self.source, self.field = source, field
        self.label = field if label is None else label
        text = f"{self.label}: {self.message}" if self.label else self.message
        super().__init__(f"{source}: {text}" if source else text)

    def named(self, names: dict, source: str | None = None, default: str | None = None) -> "PlmodelError":
        """This error with its field named as the edge calls it (`names[field]`, else `default`, else the
        field itself) and, if given, the file it came from."""
        label = names.get(self.field, default if default is not None else self.label)
        return PlmodelError(self.message, source or self.source, self.field, label)
