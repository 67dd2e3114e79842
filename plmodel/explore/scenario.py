"""What a person picks on the explorer's page (`Choices`), the Scenario it builds, and the command line that
asks the CLI for the same figures.

The scenario is built by the CLI's own code (io/scenario_options.py: its checks and option names), so a bad value
gets the CLI's one-line message; tests/test_explore.py runs the command lines and compares. Units: as the options
(ms, tokens); the Scenario is SI.
"""

from __future__ import annotations

import shlex
from dataclasses import field

from plmodel import designs
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.io.profiles import available
from plmodel.io.scenario_options import OPTION_OF, PLAN_TRIES, build_scenario, named  # noqa: F401 (the page's API)
from plmodel.models import PRESETS


@frozen
class Choices:
    """A scenario as the page's controls hold it: each field is the CLI option of the same name (ms, tokens);
    `design_values` holds ((param name, value), ...) of the registered designs' parameters set away from
    their defaults."""

    model: str = "llama-2-7b"
    rank: int = 64
    rank_c2d: int | None = None
    rank_d2c: int | None = None
    targets: str = "q,k,v"
    layers: str = "all"
    act_bits: int = 16
    cloud_bits: int = 16
    device_bits: int = 16
    cloud: str = "a100-80g-pcie"
    device: str = "iphone-13-pro-max"
    network: str = "5g-median"
    rtt_ms: float | None = None
    cloud_runtime: str | None = None
    device_runtime: str | None = None
    batch: int = 1
    prompt_tokens: int = 128
    mode: str = "realistic"
    output_tokens: int = 128
    users: float | None = None
    design_values: tuple = field(default_factory=tuple)

    def design_value(self, name: str, default):
        return dict(self.design_values).get(name, default)


@frozen
class PlanTargets:
    """`plmodel plan`'s targets as its options hold them (ms, MB; privacy: what the cloud must not recover)."""

    tpot_ms: float = 200.0
    ttft_ms: float | None = None
    max_device_memory_mb: float | None = None
    privacy: tuple = ()


@frozen
class FleetTargets:
    """`plmodel capacity --analytic`'s SLO (ms at the 90th percentile)."""

    tpot_ms: float = 200.0
    ttft_ms: float = 5000.0


#: (option, Choices field) of the scenario's options, in the order a command line gives them.
SCENARIO_OPTIONS = (("--model", "model"), ("--rank", "rank"), ("--rank-c2d", "rank_c2d"), ("--rank-d2c", "rank_d2c"),
                    ("--targets", "targets"), ("--layers", "layers"), ("--act-bits", "act_bits"),
                    ("--cloud-bits", "cloud_bits"), ("--device-bits", "device_bits"), ("--cloud", "cloud"),
                    ("--device", "device"), ("--network", "network"), ("--rtt-ms", "rtt_ms"),
                    ("--cloud-runtime", "cloud_runtime"), ("--device-runtime", "device_runtime"))
#: Options each command gives always, even at their defaults (the scenario reads plainly).
ALWAYS = ("--model", "--cloud", "--device", "--network")


def models() -> list:
    """The model presets by full name."""
    return list(PRESETS)


def hardware_names() -> list:
    return available("hardware")


def network_names() -> list:
    return available("network")


def check_output(c: Choices) -> None:
    """The estimate's own options, checked as `plmodel estimate` checks them."""
    if not 1 <= c.output_tokens <= 100_000:
        raise PlmodelError(f"--output-tokens: expected an integer from 1 to 100,000, got {c.output_tokens}")
    if c.users is not None and not 1 <= c.users <= 1e12:
        raise PlmodelError(f"--users: expected a number from 1 to 1e12, got {c.users}")


def number(v) -> str:
    """A number as a command line writes it: integers bare, floats exactly (repr)."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def scenario_args(c: Choices, skip: tuple = (), classes: tuple = designs.DESIGNS) -> list:
    """The scenario's options of `c` that differ from the CLI's defaults (and those in ALWAYS)."""
    default, out = Choices(), []
    for option, name in SCENARIO_OPTIONS:
        v = getattr(c, name)
        if option not in skip and v is not None and (option in ALWAYS or v != getattr(default, name)):
            out += [option, number(v) if isinstance(v, (int, float)) else str(v)]
    for cls in classes:
        for p in cls.params:
            v = c.design_value(p.name, p.default)
            if v != p.default and v is not None:
                out += [p.option, number(v) if isinstance(v, (int, float)) else str(v)]
    return out


def command(args: list) -> str:
    """A command line from `plmodel` and its arguments, quoted for a POSIX shell."""
    return " ".join(shlex.quote(a) for a in ["plmodel", *args])


def estimate_command(c: Choices, json: bool = False) -> str:
    """`plmodel estimate ...` for `c` (with --json where asked)."""
    args = ["estimate", *scenario_args(c), *workload_args(c, ("--batch", "--prompt-tokens", "--mode",
                                                                 "--output-tokens", "--users"))]
    return command(args + (["--json"] if json else []))


def workload_args(c: Choices, options: tuple) -> list:
    """The workload and output options of `c` among `options` that differ from the CLI's defaults."""
    out = []
    for option, name, default in (("--batch", "batch", 1), ("--prompt-tokens", "prompt_tokens", 128),
                                  ("--mode", "mode", "realistic"), ("--output-tokens", "output_tokens", 128),
                                  ("--users", "users", None)):
        v = getattr(c, name)
        if option in options and v != default:
            out += [option, number(v) if isinstance(v, (int, float)) else v]
    return out


def plan_command(c: Choices, t: PlanTargets, json: bool = False) -> str:
    """`plmodel plan ...` for `c` and the targets `t`."""
    args = ["plan", *scenario_args(c, PLAN_TRIES, designs.set_for_plan()),
            *workload_args(c, ("--batch", "--prompt-tokens", "--output-tokens"))]
    for option, v, default in (("--tpot-ms", t.tpot_ms, 200.0), ("--ttft-ms", t.ttft_ms, None),
                               ("--max-device-memory-mb", t.max_device_memory_mb, None)):
        if v != default:
            args += [option, number(v)]
    if t.privacy:
        args += ["--privacy", ",".join(t.privacy)]
    return command(args + (["--json"] if json else []))


def capacity_command(c: Choices, t: FleetTargets, json: bool = False) -> str:
    """`plmodel capacity --analytic ...` for `c` and the SLO `t`."""
    args = ["capacity", "--analytic", *scenario_args(c), *workload_args(c, ("--prompt-tokens", "--output-tokens"))]
    for option, v, default in (("--tpot-ms", t.tpot_ms, 200.0), ("--ttft-ms", t.ttft_ms, 5000.0)):
        if v != default:
            args += [option, number(v)]
    return command(args + (["--json"] if json else []))


#: (sweep key, Choices field) of the scenario's axes a one-point sweep file gives (studies/sweep.py's keys).
SWEEP_KEYS = (("models", "model"), ("targets", "targets"), ("layers", "layers"), ("cloud", "cloud"),
              ("device", "device"), ("network", "network"), ("rtt_ms", "rtt_ms"), ("cloud_runtime", "cloud_runtime"),
              ("mode", "mode"), ("batch_sizes", "batch"), ("prompt_tokens", "prompt_tokens"), ("act_bits", "act_bits"),
              ("cloud_bits", "cloud_bits"), ("device_bits", "device_bits"))


def sweep_yaml(c: Choices) -> str:
    """The scenario of `c` as a one-point sweep file: `plmodel sweep FILE --out DIR` gives its figures (the
    estimate's, both phases), `sweep_command` says so. A device runtime the sweep keys cannot name is refused."""
    if c.device_runtime is not None:
        raise PlmodelError("--device-runtime: a sweep file takes the device's runtime from its profile; save the "
                           "command line instead")
    lines = ["# plmodel explore's scenario: plmodel sweep THIS_FILE --out DIR"]
    rank_c2d, rank_d2c = c.rank_c2d or c.rank, c.rank_d2c or c.rank
    lines.append(f"rank_pairs: [[{rank_c2d}, {rank_d2c}]]")
    for key, name in SWEEP_KEYS:
        v = getattr(c, name)
        if v is not None:
            lines.append(f"{key}: {_yaml_scalar(v)}")
    for p in designs.record_params():
        v = c.design_value(p.name, p.default)
        if v is not None and v != p.default:
            lines.append(f"{p.name}: {_yaml_scalar(v)}")
    lines.append(f"tokens: {c.output_tokens}")
    return "\n".join(lines) + "\n"


def _yaml_scalar(v) -> str:
    """A value as a YAML scalar: numbers bare, text quoted."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return number(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def sweep_command(name: str) -> str:
    """The command that runs a saved scenario file."""
    return command(["sweep", name, "--out", name.rsplit(".", 1)[0]])
