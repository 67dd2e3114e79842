"""Paper mode reproduces the PrivateLoRA paper's figure, table and text (plmodel/paperdata)."""

import csv

import numpy as np
import pytest

from plmodel import accounting
from plmodel import paperdata as paper
from plmodel.analysis.estimate import estimate as estimate_typed
from plmodel.models import PRESETS, matmul_param_count
from plmodel.specs import AdapterSpec, Scenario
from plmodel.step import Step
from plmodel.workload import residency, step_work


def estimate(scn) -> dict:
    """The flat record of an estimate (the JSON keys)."""
    return estimate_typed(scn).flat()


def paper_step(model, rank: int, hardware: tuple, step: Step):
    """A step in the paper's accounting on (cloud, device, link)."""
    scn = Scenario(model, AdapterSpec(rank, rank), *hardware, mode="paper")
    return accounting.of(scn).step_time(scn, step)


def figure_errors(a100, iphone, paper_link):
    """Relative error of paper mode against every point of the 7B figure, by phase."""
    errors = {"prefill": [], "decode": []}
    model = PRESETS["llama-2-7b"]
    for row in csv.DictReader(open(paper.FIGURE_7B_CSV)):
        rank, x, phase = int(row["rank"]), int(row["x"]), row["phase"]
        batch, prompt = (1, x) if phase == "prefill" else (x, 128)
        st = paper_step(model, rank, (a100, iphone, paper_link), Step(phase, batch, prompt))
        errors[phase].append(float(st.tokens_per_s) / float(row["tokens_per_s"]) - 1)
    return {k: np.array(v) for k, v in errors.items()}


def test_every_figure_point_within_tolerance(a100, iphone, paper_link):
    """Each of the 108 points of the 7B figure is within 3 %."""
    errors = figure_errors(a100, iphone, paper_link)
    assert sum(len(v) for v in errors.values()) == 108
    for phase, err in errors.items():
        assert np.max(np.abs(err)) < paper.FIGURE_POINT_TOLERANCE, phase


def test_figure_median_within_tolerance(a100, iphone, paper_link):
    """The median error of each phase is within 1 %."""
    for phase, err in figure_errors(a100, iphone, paper_link).items():
        assert abs(np.median(err)) < paper.FIGURE_MEDIAN_TOLERANCE, phase


def test_per_rank_cost_matches_fit(a100, iphone, paper_link):
    """d(1/tps)/d(rank) per layer: 1.28 us in prefill (both directions), 0.80 us in decode (the slower)."""
    model, args = PRESETS["llama-2-7b"], (a100, iphone, paper_link)
    for phase, batch, prompt, expected in (("prefill", 1, 2048, 1.28e-6), ("decode", 2048, 128, 0.80e-6)):
        t = [float(paper_step(model, r, args, Step(phase, batch, prompt)).total_s)
             / (batch * prompt if phase == "prefill" else batch) for r in (256, 512)]
        assert (t[1] - t[0]) / 256 / model.n_layers == pytest.approx(expected, rel=0.01)


def resource_rows():
    return list(csv.DictReader(open(paper.RESOURCE_TABLE_CSV)))


@pytest.mark.parametrize("row", [r for r in resource_rows() if r["params"] in ("7B", "13B", "30B")],
                         ids=lambda r: f"{r['params']}-{r['bits']}")
def test_resource_table_row(row):
    """7B, 13B and 30B rows: memory within 0.1 %, GFLOP per token to the printed digits."""
    model = PRESETS[{"7B": "llama-2-7b", "13B": "llama-2-13b", "30B": "llama-33b"}[row["params"]]]
    if row["bits"] == "16 (PL)":
        adapter = AdapterSpec(paper.TABLE_PL_RANK, paper.TABLE_PL_RANK)
        memory = residency(model, adapter, 1, 1).device_matmul_weight_bytes
        sw = step_work(model, adapter, Step("decode", 1, 1))
        flop = sw.adapters.device_flop + sw.ends.device_flop
    else:
        memory = matmul_param_count(model) * int(row["bits"]) / 8
        flop = 2 * matmul_param_count(model)
    assert memory / 1e6 == pytest.approx(float(row["memory_mb"]), rel=paper.TABLE_MEMORY_TOLERANCE)
    digits = len(row["gflop_per_token"].split(".")[1])
    assert round(flop / 1e9, digits) == pytest.approx(float(row["gflop_per_token"]))


@pytest.mark.parametrize("model", sorted(paper.TEXT_DECODE_R64))
def test_text_decode_speeds(scenario, model):
    """The blog's decode speeds at rank 64, batch 1, for 7B, 13B and 33B."""
    result = estimate(scenario(model, 64, mode="paper"))
    assert result["decode_tokens_per_s"] == pytest.approx(paper.TEXT_DECODE_R64[model], rel=paper.TEXT_DECODE_TOLERANCE)


def test_abstract_claims(scenario):
    """Over 95 % less traffic than shipping the hidden state; over 300 % of device-only decode for 7B."""
    for rank in (16, 32, 64, 128):
        assert estimate(scenario(rank=rank, mode="paper"))["traffic_saving"] > paper.COMMUNICATION_REDUCTION_AT_LEAST
    r = estimate(scenario(rank=64, mode="paper"))
    assert r["decode_tokens_per_s"] / r["device_only_4bit_decode_tokens_per_s"] > paper.SPEEDUP_7B_OVER_DEVICE_ONLY_AT_LEAST
