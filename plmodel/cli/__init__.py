"""The `plmodel` command: one module per subcommand, one error type caught once here."""

from __future__ import annotations

import argparse
import sys

from plmodel.cli import calibrate, capacity, estimate, fleet, plan, profiles, simulate, sweep, testbed, validate
from plmodel.errors import PlmodelError
from plmodel.interrupt import exit_status, signal_name, terminable
from plmodel.version import __version__

SUBCOMMANDS = {"estimate": estimate, "simulate": simulate, "fleet": fleet, "capacity": capacity, "plan": plan,
               "sweep": sweep,
               "validate": validate, "calibrate": calibrate, "testbed": testbed, "profiles": profiles}


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line, exit status 2."""

    def error(self, message):
        print(f"ERROR: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="plmodel", description="Performance model of PrivateLoRA split inference "
                    "(cloud GPU + personal device). Units: SI inside; tables print tok/s, ms, MB (1e6 B), GFLOP.")
    parser.add_argument("--version", action="version", version=f"plmodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.register_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
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
