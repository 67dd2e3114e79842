"""`plmodel plan` and the privacy column: designs evaluated, the infeasible marked with reasons, the
Pareto front non-dominated, the recommendation honouring privacy."""

import json
import subprocess
import sys

import pytest

from plmodel.analysis.privacy import CLOUD_ONLY, DEVICE_ONLY, PRIVATELORA
from plmodel.io.profiles import load_link
from plmodel.studies.plan import Targets, dominates, plan


def plmodel(*args):
    return subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, timeout=120)


def test_privacy_levels():
    """Published PrivateLoRA hides neither prompt nor output from the cloud; device-only hides both."""
    assert not PRIVATELORA.hides("prompt") and not PRIVATELORA.hides("output") and PRIVATELORA.hides("none")
    assert DEVICE_ONLY.hides("prompt") and DEVICE_ONLY.hides("output")
    assert CLOUD_ONLY.cloud_can_recover == PRIVATELORA.cloud_can_recover == "prompt and output"


def test_plan_marks_the_slow_and_the_unfit(scenario):
    """On measured 5G at 200 ms a token, split with every layer adapted is out for its time; the Pareto
    front is non-dominated among the feasible; every infeasible design says why."""
    designs, best = plan(scenario(link=load_link("5g-median")), Targets(0.2))
    by = {d.design: d for d in designs}
    assert not by["split r64, adapters on all layers"].feasible and "ms a token" in by["split r64, adapters on all layers"].reason
    assert all(d.reason for d in designs if not d.feasible)
    front = [d for d in designs if d.pareto]
    assert front and all(d.feasible for d in front)
    assert not any(dominates(o, d) for d in front for o in designs if o.feasible and o is not d)
    assert best is not None and best.feasible


def test_privacy_requirement_leaves_device_only(scenario):
    """Asking that the cloud never see the prompt rules out cloud-only and every published split design."""
    designs, best = plan(scenario(link=load_link("5g-edge")), Targets(0.3, privacy="prompt"))
    assert {d.design for d in designs if d.feasible} <= {"device-only 4-bit", "device-only 3-bit"}
    assert best is not None and best.design.startswith("device-only")


def test_fewer_adapted_layers_fewer_round_trips(scenario):
    """Adapting only the last layer is the latency lever: far faster than adapting all 32."""
    designs, _ = plan(scenario(link=load_link("5g-edge")), Targets(10.0))
    by = {d.design: d for d in designs}
    assert by["split r64, adapters on last layer"].tpot_s < by["split r64, adapters on all layers"].tpot_s / 5


def test_plan_json_and_errors():
    out = plmodel("plan", "--model", "7b", "--network", "5g-edge", "--tpot-ms", "300", "--json")
    r = json.loads(out.stdout)
    assert r["recommended"] in [d["design"] for d in r["designs"]]
    for d in r["designs"]:
        assert {"design", "feasible", "reason", "pareto", "tpot_s", "cloud_can_recover"} <= set(d)
    bad = plmodel("plan", "--tpot-ms", "0")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("ERROR: --tpot-ms")


@pytest.mark.parametrize("args", [["estimate", "--json"]])
def test_estimate_carries_the_privacy_column(args):
    r = json.loads(plmodel(*args).stdout)
    assert r["cloud_can_recover"] == "prompt and output" and "public table" in r["privacy_reason"]
