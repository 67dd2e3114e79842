"""What the user gave on the command line, as the commands ask it."""


def given(args, name: str) -> bool:
    """Whether option `name` (its dest) was set away from its default."""
    return getattr(args, name) != args.option_defaults[name]
