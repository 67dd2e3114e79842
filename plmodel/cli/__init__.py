"""The `plmodel` command: one module per subcommand, one error type caught once here.

A subcommand's module is imported only when it runs (or its --help is asked for): `plmodel estimate`
pays for neither the simulation nor pandas.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

#: Each subcommand (its module is plmodel.cli.<name>, with `-` as `_`) and its line in `plmodel --help`.
COMMANDS = {
    "estimate": "estimate tokens/s, latency, traffic and device cost of one configuration",
    "simulate": "simulate requests in time (SimPy): latency percentiles, utilisation, timelines",
    "fleet": "simulate a fleet of devices sharing a cloud GPU: split vs cloud-only, latency, load, memory, cost",
    "capacity": "the request rate and users a GPU serves within a latency target, split vs cloud-only, and the cost",
    "plan": "which design (cloud-only, device-only, split variants) meets a time per token, memory and privacy",
    "sweep": "run a YAML sweep into a folder of CSV, figures and a report",
    "validate": "check the workload counts against a real split torch forward (needs torch)",
    "calibrate": "measure this machine with the reference layers and write a hardware profile (needs torch)",
    "testbed": "measure a real two-process split run on this machine against plmodel's prediction (needs torch)",
    "profiles": "list hardware and network profiles",
    "explore": "a local web page to explore a scenario, plan and capacity (needs plmodel[explore])",
}


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line, exit status 2, and takes no abbreviated options
    (`--mode` is never read as `--model`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        print(f"ERROR: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def columns() -> int:
    """The terminal's width in characters as shutil.get_terminal_size() reads it (COLUMNS, else the terminal on
    standard output, else 80), without importing shutil (with bz2, lzma and fnmatch: 5 ms of every command's
    start)."""
    try:
        width = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        width = 0
    if width > 0:
        return width
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


class Formatter(argparse.HelpFormatter):
    """argparse's help, its width read without shutil (`columns`)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, columns() - 2 if width is None else width)


class HelpFormatter(Formatter):
    """Help that states an option's default once (not where its text already speaks of it, nor a default of
    nothing), and a usage line of `[options]` and the positionals: the options are listed below it."""

    def _get_help_string(self, action):
        text = action.help or ""
        nothing = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if not action.option_strings or nothing or "default" in text:
            return text
        return f"{text} (default: %(default)s)"

    def add_usage(self, usage, actions, groups, prefix=None):
        if usage is None:
            positionals = [a for a in actions if not a.option_strings]
            usage = " ".join(["%(prog)s [options]", self._format_actions_usage(positionals, groups)]).strip()
        super().add_usage(usage, actions, groups, prefix)


def command_module(name: str):
    """The module of subcommand `name`, imported now (by name in the code, so the import graph sees it)."""
    if name == "estimate":
        from plmodel.cli import estimate as module
    elif name == "simulate":
        from plmodel.cli import simulate as module
    elif name == "fleet":
        from plmodel.cli import fleet as module
    elif name == "capacity":
        from plmodel.cli import capacity as module
    elif name == "plan":
        from plmodel.cli import plan as module
    elif name == "sweep":
        from plmodel.cli import sweep as module
    elif name == "validate":
        from plmodel.cli import validate as module
    elif name == "calibrate":
        from plmodel.cli import calibrate as module
    elif name == "testbed":
        from plmodel.cli import testbed as module
    elif name == "profiles":
        from plmodel.cli import profiles as module
    elif name == "explore":
        from plmodel.cli import explore as module
    else:
        raise KeyError(name)
    return module


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, every command's options (docs and tests read it); with `only=""`, every command listed
    by name, none of their modules imported (plmodel's own help and errors). A command run alone parses with
    `command_parser`."""
    parser = Parser(prog="plmodel", description="Performance model of PrivateLoRA split inference "
                    "(cloud GPU + personal device). Units: SI inside; tables print tok/s, ms, MB (1e6 B), GFLOP.")
    from plmodel.version import __version__

    parser.add_argument("--version", action="version", version=f"plmodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, text in COMMANDS.items():
        if only is not None:
            sub.add_parser(name, help=text)
        else:
            with_command(sub.add_parser(name, help=text, description=command_module(name).__doc__,
                                        formatter_class=HelpFormatter), name)
    return parser


def command_parser(name: str) -> argparse.ArgumentParser:
    """The parser of command `name` alone, as `plmodel name` (its options: nothing else is parsed)."""
    return with_command(Parser(prog=f"plmodel {name}", description=command_module(name).__doc__,
                               formatter_class=HelpFormatter), name)


def with_command(p: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """`p` with command `name`'s options, its run function and its options' defaults."""
    module = command_module(name)
    module.register_arguments(p)
    p.set_defaults(command=name, run=module.run, option_defaults={a.dest: a.default for a in p._actions
                                                                   if a.option_strings and a.default != argparse.SUPPRESS})
    return p


def chosen(argv: list) -> str:
    """The subcommand argv names ('' for none: only `plmodel`'s own options, or an unknown command)."""
    return argv[0] if argv and argv[0] in COMMANDS else ""


def refuse(name: str, extra: list) -> None:
    """One line on options the command does not take, with the command's reason where it gives one."""
    why = getattr(command_module(name), "NOT_TAKEN", {}) if name else {}
    option = next((a.split("=")[0] for a in extra if a.split("=")[0] in why), None)
    prog = f"plmodel {name}".strip()
    message = f"{option}: {why[option]}" if option else f"unrecognized arguments: {' '.join(extra)}"
    print(f"ERROR: {prog}: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    name = chosen(argv)
    parser = command_parser(name) if name else build_parser(only="")
    args, extra = parser.parse_known_args(argv[1:] if name else argv)
    if extra:
        refuse(name, extra)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    from plmodel.errors import PlmodelError
    from plmodel.interrupt import exit_status, signal_name, terminable

    try:
        with terminable():
            return args.run(args) or 0
    except PlmodelError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the command has cleaned up on its way out
        print(f"ERROR: interrupted by {signal_name(exc)}; stopped, nothing was written", file=sys.stderr)
        return exit_status(exc)
    except BrokenPipeError:
        return 0


def entry() -> int:
    """The `plmodel` process (its console script and `python -m plmodel`): `main`, then every object it leaves
    frozen (gc.freeze), so that the interpreter's exit does not walk them for cycles: that walk took 15-30 ms of
    `plmodel estimate`'s ~90 beyond numpy's import. What cleans up has run (finally blocks, context managers)
    or still runs (atexit, the streams' flush); `main` called in a process of the caller's freezes nothing."""
    status = main()
    gc.freeze()
    return status
