"""Every option of every command: one name a concept, no abbreviations, and each changes the output or is refused."""

import argparse
import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from plmodel.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
PLACEMENT = str(ROOT / "placements" / "bloom-176b-h100-a100.yaml")

#: A value other than the default for options whose default cannot simply be doubled.
PROBES = {"--model": "13b", "--targets": "q,v", "--layers": "0-15", "--cloud": "h100-sxm", "--device": "iphone-15-pro",
          "--network": "5g-edge", "--rtt-ms": "20", "--cloud-runtime": "hf-eager", "--device-runtime": "peak",
          "--server-network": "5g-edge", "--placement": PLACEMENT, "--draft-model": "tinyllama",
          "--rank-c2d": "16", "--rank-d2c": "16", "--device-layers-first": "1", "--device-layers-last": "1",
          "--act-bits": "8", "--cloud-bits": "8", "--device-bits": "4", "--mode": "paper", "--users": "50",
          "--ttft-ms": "500", "--max-device-memory-mb": "1000", "--privacy": "output", "--chunk-tokens": "32",
          "--gpus": "2", "--subscribers": "1e6", "--percentile": "50", "--server": "split", "--policy": "greedy",
          "--max-wait-ms": "50", "--hold-target": "4", "--rate": "3", "--arrival": "poisson", "--seed": "3",
          "--lengths": "exponential", "--think-s": "2", "--cohort-size": "4", "--max-batch": "4",
          "--cloud-max-batch": "4", "--devices": "2", "--study": "fleet"}
#: Probes particular to a command: (command, option) -> the arguments that set it.
PROBE_IN = {("simulate", "--arrival"): ["--arrival", "poisson", "--rate", "3"],
            ("fleet", "--arrival"): ["--arrival", "closed", "--users", "4"], ("fleet", "--users"): ["--users", "4"]}
#: Arguments a probe needs beside its option to show its effect, on both runs: (command, option) -> arguments.
CONTEXT = {("fleet", "--cloud-max-batch"): ["--rate", "50"], ("fleet", "--chunk-tokens"): ["--prompt-tokens", "256"],
           ("fleet", "--think-s"): ["--arrival", "closed", "--users", "4"], ("capacity", "--max-wait-ms"): ["--policy", "hold"],
           ("capacity", "--hold-target"): ["--policy", "hold"], ("capacity", "--max-batch"): ["--policy", "greedy"],
           ("estimate", "--seed"): ["--uncertainty", "20"]}
#: Options whose effect is not on what the command prints, with where it is: these need no probe.
ELSEWHERE = {"--json": "the format", "--progress": "stderr", "--jobs": "where the work runs",
             "--backend": "where the work runs", "--address": "where the work runs", "--yes": "a bound's check",
             "--timeline": "a file", "--timeline-devices": "a file", "--kv-csv": "a file", "--trace-csv": "an input file",
             "--help": "help"}
#: (command, the base arguments of a cheap run): every option of the command not ELSEWHERE is probed on it.
RUNS = {"estimate": [], "plan": [], "capacity": ["--analytic", "--network", "5g-edge", "--tpot-ms", "2000", "--json"],
        "fleet": ["--requests", "40", "--output-tokens", "8", "--prompt-tokens", "16", "--json"],
        "simulate": ["--output-tokens", "3", "--prompt-tokens", "16", "--json"]}


def options(command: str) -> dict:
    """{option string: argparse action} of a subcommand."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {s: a for a in sub._actions for s in a.option_strings if s.startswith("--")}


def probe(command: str, option: str, action) -> list:
    """Arguments that set `option` to a value other than its default."""
    if (command, option) in PROBE_IN:
        return PROBE_IN[command, option]
    if action.nargs == 0:
        return [option] if not option.startswith("--no-") else []
    if option in PROBES:
        return [option, PROBES[option]]
    return [option, str(action.default * 2 if action.default else 2)]


def output(argv: list) -> tuple:
    """(exit status, stdout, stderr) of `plmodel ARGV`, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    text = out.getvalue()
    if text.startswith("{"):  # JSON: the figures less the run's own wall-clock time
        text = json.dumps({k: v for k, v in json.loads(text).items() if not re.search("wall|events_per_s", k)})
    return code, text, err.getvalue()


def cases():
    for command, base in RUNS.items():
        for option, action in options(command).items():
            if option not in ELSEWHERE and not option.startswith("--no-") and option not in base:
                yield pytest.param(command, base, option, id=f"{command} {option}")


@pytest.mark.parametrize("command,base,option", list(cases()))
def test_option_changes_the_output_or_is_refused(command, base, option):
    """Setting the option away from its default changes what the command prints, or is refused in one line."""
    action = options(command)[option]
    base = [*base, *CONTEXT.get((command, option), [])]
    code, before, _ = output([command, *base])
    assert code == 0
    code, after, err = output([command, *base, *probe(command, option, action)])
    if code == 0:
        assert after != before, f"{command} {option} changes nothing"
    else:
        assert code == 2 and option in err and len(err.strip().splitlines()) == 1, err


def test_every_parser_refuses_abbreviations():
    """allow_abbrev is off everywhere: `plan --mode paper` is never read as --model."""
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert parser.allow_abbrev is False and all(p.allow_abbrev is False for p in subs.values())
    code, out, err = output(["plan", "--mode", "paper"])
    assert code == 2 and "--mode" in err and "--model" not in err and out == ""
    code, _, err = output(["estimate", "--mod", "13b"])
    assert code == 2 and "unrecognized arguments: --mod" in err


@pytest.mark.parametrize("args", [["--rank", "16"], ["--draft-tokens", "3"], ["--layers", "0-3"],
                                  ["--acceptance", "0.5"], ["--prefill-chunks", "2"]])
def test_plan_refuses_what_it_tries_itself(args):
    """plan tries its own ranks, layers and design variants: it refuses those options in one line, naming them."""
    code, out, err = output(["plan", *args])
    assert code == 2 and out == "" and err.startswith(f"ERROR: plmodel plan: {args[0]}: plan tries its own")


#: Words of an option that name one concept each; a command may use a word only in its concept's sense.
CONCEPTS = {"--users": "users served at once", "--output-tokens": "generated tokens", "--devices": "devices",
            "--subscribers": "people the fleet serves"}


def test_one_name_a_concept():
    """No --tokens or --trace (ambiguous); --users always means users at once; no option twice in a command."""
    for command in COMMANDS:
        opts = options(command)
        assert "--tokens" not in opts and "--trace" not in opts, command
        for option, action in opts.items():
            assert [a for a in set(opts.values()) if option in a.option_strings] == [action]
        if "--users" in opts:
            assert re.search(r"users (served )?at once|one request at a time", opts["--users"].help), command


def test_help_states_each_default_once():
    """No option's help says its default twice, and capacity --help stays compact."""
    for command in COMMANDS:
        sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
        text = sub.format_help()
        for block in re.split(r"\n  (?=-)", text):
            assert block.count("default") <= 1, f"{command}: {block}"
    capacity = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["capacity"]
    lines, listed = capacity.format_help().splitlines(), [o for o in options("capacity") if not o.startswith("--no-")]
    assert len(lines) <= 2.2 * len(listed) + 20, (len(lines), len(listed))


def test_shipped_placement_and_study_by_name():
    """A shipped placement and capacity study are found by name where no such file exists (as after a wheel
    install, run from any folder)."""
    from plmodel.cli.capacity import shipped_studies, study_path

    code, out, err = output(["estimate", "--model", "bloom", "--cloud-bits", "8", "--placement", "bloom-176b-h100-a100",
                             "--json"])
    assert code == 0 and json.loads(out)["placement"].endswith("bloom-176b-h100-a100.yaml"), err
    assert "fleet" in shipped_studies() and Path(study_path("fleet")).is_file()
    code, _, err = output(["estimate", "--placement", "no-such-placement"])
    assert code == 2 and "bloom-176b-h100-a100" in err


@pytest.mark.parametrize("args,option", [(["--rank", "16"], "--rank"), (["--json"], "--json"),
                                         (["--tpot-ms", "100"], "--tpot-ms")])
def test_capacity_study_refuses_what_it_would_ignore(tmp_path, args, option):
    """A --study sets its own cases: the scenario and search options are refused with it, in one line."""
    code, out, err = output(["capacity", "--study", "fleet", "--out", str(tmp_path / "out"), *args])
    assert code == 2 and err.startswith(f"ERROR: {option}: a --study sets its own cases") and out == ""
    assert not (tmp_path / "out").exists()
