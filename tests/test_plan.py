"""`plmodel plan` and the privacy column: designs evaluated, the infeasible marked with reasons, the
Pareto front non-dominated, the recommendation honouring privacy."""

import json
import subprocess
import sys

import pytest

from plmodel.analysis.privacy import DEVICE_ONLY, of_cloud_only, of_split
from plmodel.io.profiles import load_link
from plmodel.studies.plan import Targets, dominates, plan


def plmodel(*args):
    return subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, timeout=120)


def test_privacy_levels(scenario):
    """Published PrivateLoRA hides nothing from the cloud (not even M); device-only hides everything."""
    scn = scenario()
    published = of_split(scn.model, scn.adapter)
    assert published.cloud_can_recover == ["prompt", "output", "adapter"] and published.hides(())
    assert not published.hides(("prompt",)) and DEVICE_ONLY.hides(("prompt", "output", "adapter"))
    assert of_cloud_only().cloud_can_recover == ["prompt", "output"]


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


def test_privacy_requirement_leaves_the_designs_that_hide_it(scenario):
    """Asking that the cloud never see the prompt rules out cloud-only and every published split design; what is
    left hides the prompt: device-only, private device layers, a TEE."""
    designs, best = plan(scenario(link=load_link("5g-edge")), Targets(0.3, privacy=("prompt",)))
    feasible = [d for d in designs if d.feasible]
    assert all("prompt" not in d.cloud_can_recover for d in feasible)
    names = {d.design for d in feasible}
    assert "device-only 4-bit" in names and any("GPU TEE" in n for n in names) and any("private layers" in n for n in names)
    assert all("the cloud can recover the prompt" in d.reason for d in designs if d.design.startswith("split r16"))
    assert best is not None and best.cloud_can_recover == []


def test_several_privacy_requirements(scenario):
    """--privacy prompt,adapter: private first layers with adapters left on the cloud are out (M crosses)."""
    designs, _ = plan(scenario(link=load_link("5g-edge")), Targets(10.0, privacy=("prompt", "adapter")))
    by = {d.design: d for d in designs}
    assert not by["split r64, private layers (first 1)"].feasible
    assert "the cloud can recover the adapter" in by["split r64, private layers (first 1)"].reason
    assert by["split r64, private layers (first 2 + last 2), no cloud adapters"].feasible


def test_pipelined_prefill_not_offered_where_it_makes_ttft_worse(scenario):
    """On a datacenter link the pipelined prefill is slower to the first token: plan leaves it out."""
    designs, _ = plan(scenario(link=load_link("datacenter")), Targets(10.0))
    assert not any("pipelined" in d.design for d in designs)
    designs, _ = plan(scenario(link=load_link("5g-edge")), Targets(10.0))
    assert any("pipelined" in d.design for d in designs)


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
    assert r["cloud_can_recover"] == ["prompt", "output", "adapter"] and "public embedding table" in r["privacy_reason"]
    assert r["cloud_can_recover_adapter_tokens"] == r["rank_c2d"]


def test_plan_privacy_option():
    """--privacy takes several names, comma-separated; an unknown one is refused naming the option."""
    out = plmodel("plan", "--model", "7b", "--network", "5g-edge", "--privacy", "prompt,output", "--json")
    r = json.loads(out.stdout)
    assert all(not ({"prompt", "output"} & set(d["cloud_can_recover"])) for d in r["designs"] if d["feasible"])
    bad = plmodel("plan", "--privacy", "secrets")
    assert bad.returncode == 2 and "--privacy" in bad.stderr
