"""The explorer's figures are the CLI's: each pure function of plmodel/explore/ against the command line it
prints, run by the CLI (`estimate --json`, `plan --json`, `capacity --analytic --json`), and bad input gets
the CLI's one-line message."""

import contextlib
import io
import json
import shlex
import socket
import subprocess
import sys

import pytest

from plmodel import designs
from plmodel.cli import main
from plmodel.errors import PlmodelError
from plmodel.explore import views
from plmodel.explore.scenario import Choices, FleetTargets, PlanTargets, capacity_command, estimate_command, plan_command

SCENARIOS = [Choices(), Choices(model="llama-2-13b", rtt_ms=20.0, targets="q,v", layers="0-9", rank_d2c=32),
             Choices(network="5g-edge", design_values=(("draft_model", "tinyllama-1.1b"),)),
             Choices(cloud="h100-sxm", device="snapdragon-8-gen3", network="lte", batch=4,
                     prompt_tokens=512, cloud_runtime="hf-eager"),
             Choices(network="5g-paper", mode="paper", rank=16),
             Choices(network="5g-median", prompt_tokens=512, design_values=(("prefill_chunks", 4),), users=100.0)]
BAD = [Choices(layers="0-99"), Choices(targets="q,x"), Choices(rtt_ms=1e9), Choices(model="nope"),
       Choices(design_values=(("draft_tokens", 8),)), Choices(cloud="nope.yaml"), Choices(rank=0),
       Choices(output_tokens=0)]


def cli(line: str) -> tuple:
    """(exit status, stdout, stderr) of a `plmodel ...` command line, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(shlex.split(line)[1:])
    return status, out.getvalue(), err.getvalue()


def same(a: dict, b: dict) -> bool:
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def test_the_default_scenario_equals_a_fresh_cli():
    """The page's record of the default scenario is `python -m plmodel estimate ... --json`'s, key for key."""
    args = shlex.split(estimate_command(Choices(), json=True))[1:]
    out = subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, check=True)
    assert same(views.flat_estimate(Choices()), json.loads(out.stdout))


@pytest.mark.parametrize("c", SCENARIOS, ids=range(len(SCENARIOS)))
def test_estimate_equals_the_cli(c):
    """Every figure of the headline and the step comes from the record `estimate --json` prints."""
    status, out, err = cli(estimate_command(c, json=True))
    assert status == 0, err
    assert same(views.flat_estimate(c), json.loads(out))


@pytest.mark.parametrize("c", BAD, ids=range(len(BAD)))
def test_bad_input_gets_the_clis_line(c):
    """A bad value on the page gives the CLI's one-line message, word for word."""
    with pytest.raises(PlmodelError) as got:
        views.flat_estimate(c)
    status, _, err = cli(estimate_command(c, json=True))
    assert status == 2 and err.strip() == f"ERROR: {got.value}"


def test_rtt_curves_are_estimates_at_each_rtt():
    """Each point of the RTT curves is `estimate --rtt-ms RTT`'s, and the break-even is the estimate's."""
    c = Choices(network="5g-edge")
    curves = views.rtt_curves(c, n=6)
    flat = json.loads(cli(estimate_command(c, json=True))[1])
    assert curves.break_even_ms == pytest.approx(flat["break_even_rtt_s"] * 1e3, rel=1e-12)
    assert curves.break_even_ms in set(curves.table["rtt_ms"])
    for row in curves.table.iloc[[0, 3, -1]].itertuples():
        f = json.loads(cli(estimate_command(Choices(network="5g-edge", rtt_ms=row.rtt_ms), json=True))[1])
        assert (row.split_tokens_per_s, row.cloud_only_tokens_per_s, row.split_j_per_token) == (
            f["decode_tokens_per_s"], f["cloud_only_decode_tokens_per_s"], f["device_energy_j_per_token"])
        assert row.device_only_tokens_per_s == f[f"device_only_{curves.device_only_bits}bit_decode_tokens_per_s"]


def test_step_breakdown_adds_up():
    """The step's parts are the estimate's and add up to the step."""
    flat = views.flat_estimate(Choices())
    step = views.step_breakdown(flat)
    assert step["ms"].sum() == pytest.approx(flat["decode_step_s"] * 1e3, rel=1e-9)


def test_plan_equals_the_cli():
    """The plan's designs and recommendation are `plan --json`'s for the same scenario and targets."""
    c, t = Choices(network="5g-edge", rank=16, layers="0-3"), PlanTargets(300.0, privacy=("prompt",))
    table, best = views.plan_table(c, t)
    status, out, err = cli(plan_command(c, t, json=True))
    assert status == 0, err
    got = json.loads(out)
    assert best == got["recommended"]
    assert list(table["design"]) == [d["design"] for d in got["designs"]]
    assert list(table["tpot_s"]) == [d["tpot_s"] for d in got["designs"]]
    assert list(table["reason"]) == [d["reason"] for d in got["designs"]]


def test_capacity_equals_the_cli():
    """The fleet view is `capacity --analytic --json`'s: requests/s and cost, split and cloud-only."""
    c, t = Choices(network="5g-edge", prompt_tokens=256), FleetTargets(2000.0)
    table = views.capacity(c, t).set_index("server")
    status, out, err = cli(capacity_command(c, t, json=True))
    assert status == 0, err
    got = json.loads(out)
    for server in ("split", "cloud-only"):
        k = server.replace("-", "_")
        assert table.loc[server, "max_rate_per_s"] == got[f"{k}_max_rate_per_s"]
        assert table.loc[server, "usd_per_million_output_tokens"] == got[f"{k}_usd_per_million_output_tokens"]
        assert table.loc[server, "usd_per_million_tokens"] == got[f"{k}_usd_per_million_tokens"]
        assert table.loc[server, "gpus_a_replica"] == got[f"{k}_gpus_a_replica"]
        assert table.loc[server, "binding_limit"] == got[f"{k}_binding_limit"]


class FakeStreamlit:
    """The widget calls the page makes, each answering its default."""

    def checkbox(self, label, value=False, **_):
        return value

    def number_input(self, label, *a, value=None, **_):
        return value

    def selectbox(self, label, options, index=0, **_):
        return options[index]


def test_every_registered_design_parameter_gets_a_control():
    """The page's design controls come from the registry: each parameter's control answers its default."""
    from plmodel.explore.app import design_widget

    for _, p in designs.params():
        assert design_widget(FakeStreamlit(), p) == p.default, p.name


def test_explore_refuses_a_busy_port():
    """`plmodel explore --port N` with N in use: one line, exit 2."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        status, _, err = cli(f"plmodel explore --no-browser --port {s.getsockname()[1]}")
    assert status == 2 and err.startswith("ERROR: --port:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("choices", [
    Choices(), Choices(model="llama-2-13b", rank=16, rtt_ms=20.0, targets="q,v", layers="0-9"),
    Choices(rank_c2d=32, rank_d2c=96, design_values=(("device_layers_last", 1),), batch=2, prompt_tokens=256, cloud_bits=8),
    Choices(design_values=(("draft_model", "tinyllama-1.1b"), ("draft_tokens", 3))),
])
def test_scenario_file_gives_the_pages_estimate(tmp_path, choices):
    """The page's scenario YAML is a one-point sweep whose scenario estimates exactly as the page's does."""
    from plmodel.analysis.estimate import estimate
    from plmodel.explore.scenario import build_scenario, sweep_yaml
    from plmodel.studies.sweep import load_sweep

    path = tmp_path / "scenario.yaml"
    path.write_text(sweep_yaml(choices))
    (task,) = load_sweep(path).tasks
    assert estimate(task.scenario, with_cost=False).flat() == estimate(build_scenario(choices), with_cost=False).flat()


def test_the_browser_opens_once_the_page_answers(monkeypatch):
    """Without --no-browser the page's address is opened once its port answers (Streamlit itself runs headless:
    no first-run e-mail prompt)."""
    import threading
    import webbrowser

    from plmodel.cli.explore import open_when_serving

    opened = threading.Event()
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.set())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        open_when_serving(f"http://localhost:{port}", port, bound_s=120)
        assert not opened.is_set()  # nothing listens yet
        s.listen()
        assert opened.wait(120)  # the evidence, awaited with a generous bound
