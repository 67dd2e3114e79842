"""A step's route (route.py): the closed form's fold equals the sum of its segments, the fleet's trips are its
off-GPU runs, and the travel law is the one every closed form counts."""

import pytest

from plmodel import accounting
from plmodel.designs import HeldLayers
from plmodel.io.profiles import load_link
from plmodel.link import hold_s, mean_slowdown
from plmodel.route import layer_plan, route, totals, travel_s, trips
from plmodel.step import Step
from plmodel.workload import cloud_layer_indices, stages


def route_of(scn, step):
    p = accounting.realistic().pieces(scn, step)
    plan = layer_plan(cloud_layer_indices(scn.model, scn.adapter), p.adapted, len(stages(scn.adapter.targets)))
    return p, route(p, plan)


@pytest.mark.parametrize("phase", ["prefill", "decode"])
@pytest.mark.parametrize("kw", [{}, {"targets": ("q", "v"), "layers": (3, 7, 30)}, {"designs": (HeldLayers(2, 1),)},
                                {"targets": ()}])
def test_the_fold_is_the_sum_of_the_segments(scenario, phase, kw):
    """Cloud, device, bytes each way, messages and latency of the realistic closed form are the route's sums."""
    scn = scenario(link=load_link("5g-sa-lowband-jitter"), **kw)
    step = Step(phase, 2, 256)
    p, r = route_of(scn, step)
    t, link = accounting.realistic().step_time(scn, step), scn.link
    sums = totals(r)
    assert sums["cloud"] == pytest.approx(float(t.cloud_s), rel=1e-12)
    assert sums["device"] == pytest.approx(float(t.device_s), rel=1e-12)
    messages = {d: sum(1 for s in r if s.kind == d) for d in ("c2d", "d2c")}
    assert messages["c2d"] == messages["d2c"] == p.n_messages
    wire = sum(hold_s(sums[d], messages[d], link.c2d_bps if d == "c2d" else link.d2c_bps, link, mean_slowdown(link))
               for d in ("c2d", "d2c"))
    assert wire == pytest.approx(float(t.transfer_s), rel=1e-12)
    travel = sum(travel_s(link) for s in r if s.kind in ("c2d", "d2c")) + sums["wait"]
    assert travel == pytest.approx(float(t.latency_s), rel=1e-12)


def test_trips_are_the_runs_between_gpu_segments(scenario):
    """One run up, one a round trip of every adapted stage, one down; a round trip is x.A down, M, M out up."""
    scn = scenario(targets=("q", "k", "v", "o"))
    p, r = route_of(scn, Step("decode", 1, 128))
    runs = trips(r)
    assert len(runs) == 2 + p.n_round_trips
    assert [s.kind for s in runs[0]] == ["device", "d2c"] and [s.kind for s in runs[-1]] == ["wait", "c2d", "device"]
    assert all([s.kind for s in run] == ["c2d", "device", "d2c"] for run in runs[1:-1])
    assert sum(s.value for s in r if s.kind == "cloud") == pytest.approx(float(p.cloud_s), rel=1e-12)


def test_travel_is_half_the_rtt_and_the_jitters_mean():
    """Without jitter a message travels RTT / 2; with it, more (the lognormal's mean is above its median)."""
    plain, jittery = load_link("5g-paper"), load_link("5g-sa-lowband-jitter")
    assert travel_s(plain) == plain.rtt_s / 2
    assert travel_s(jittery) > jittery.rtt_s / 2 + jittery.jitter.median_s
