"""The one error type users see: a single line naming the input, the field and what was expected."""


class PlmodelError(Exception):
    """Bad input or an impossible request; the CLI prints `ERROR: <message>` and exits with status 2."""

    def __init__(self, message: str, source: str | None = None):
        self.source = source
        message = " ".join(str(message).split())  # one line, whatever a parser's message held
        super().__init__(f"{source}: {message}" if source else message)
