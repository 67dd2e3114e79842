"""Paged KV on both servers (fleet/paging.py): admission by blocks, preemption by recompute or swap, blocks conserved."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plmodel.errors import PlmodelError
from plmodel.fleet import analytic
from plmodel.fleet.arrivals import Workload
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.loop import Front, Loop, Request
from plmodel.fleet.memory import KvPool, Memory, memory_of
from plmodel.fleet.paging import Pager
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.run import serve
from plmodel.io.profiles import load_link


@pytest.mark.parametrize("policy", ["cohort", "greedy"])
def test_split_pages_its_kv_and_preempts(scenario, policy):
    """The split server admits long requests on their prompts' blocks, grows them and, where blocks run out,
    preempts the latest admitted: all complete, none waits for memory at admission, KV never above capacity;
    reserving whole lengths the same requests queue for memory instead, without preemption."""
    scn = scenario(link=load_link("datacenter"), prompt_tokens=3000)
    cap = analytic.max_concurrency(scn, 1, 3000, 1000)
    trace = tuple((0.0, 3000, 1000) for _ in range(cap + 5))
    paged, whole = (serve(scn, Workload("trace", trace=trace), server="split", policy=PolicySpec(policy),
                          batching=BatchingSpec(kv=kv)).metrics for kv in ("paged", "reserve"))
    assert paged["completed"] == whole["completed"] == cap + 5
    assert paged["preemptions"] > 0 and paged["queued"] == 0 and paged["kv_peak_bytes"] <= paged["kv_capacity_bytes"]
    assert whole["preemptions"] == 0 and whole["queued"] >= 5


def test_split_paged_holds_more_requests_than_reserving(scenario):
    """At a chat's lengths (output long beside the prompt) paged split holds more requests at once and serves
    more tokens a second than reserving each request's whole length, and the closed form says so too."""
    scn = scenario(link=load_link("5g-edge"))
    w = Workload("closed", users=200, requests=260, prompt_tokens=256, output_tokens=1024)
    paged, whole = (serve(scn, w, server="split", batching=BatchingSpec(kv=kv)).metrics for kv in ("paged", "reserve"))
    assert paged["mean_concurrency"] > 1.2 * whole["mean_concurrency"]
    assert paged["throughput_tokens_per_s"] > whole["throughput_tokens_per_s"]
    n = {kv: analytic.max_concurrency(scn, 1, 256, 1024, batching=BatchingSpec(kv=kv)) for kv in ("paged", "reserve")}
    assert n["paged"] > 1.2 * n["reserve"]


@pytest.mark.parametrize("server", ["cloud-only", "split"])
def test_swap_is_cheaper_than_recomputing_long_prompts(scenario, server):
    """Long prompts (3,000 tokens): a preempted request's KV copied to host and back over PCIe (~0.1 s at
    31.5 GB/s) costs the GPU less than running its prefill again (~0.3 s), so with swap the same requests take
    fewer GPU-seconds; every swap is one preemption and all blocks come back (serve's invariants)."""
    scn = scenario(link=load_link("datacenter"), prompt_tokens=3000)
    w = Workload("closed", users=40, requests=120, prompt_tokens=3000, output_tokens=1000)
    got = {p: serve(scn, w, server=server, batching=BatchingSpec(preemption=p)).metrics for p in ("recompute", "swap")}
    busy = {p: m["gpu_busy"] * m["window_s"] for p, m in got.items()}
    assert got["swap"]["swaps"] > 0 and got["recompute"]["swaps"] == 0 and got["recompute"]["preemptions"] > 0
    assert got["swap"]["swaps"] <= got["swap"]["preemptions"]
    assert busy["swap"] < busy["recompute"]
    assert got["swap"]["completed"] == got["recompute"]["completed"] == 120


def test_swapped_blocks_are_conserved():
    """A swap moves a victim's bytes from the GPU's pool to host memory and back: GPU plus host bytes stay
    what the requests hold, the copies take bytes / host bandwidth each way, and the victim comes back whole."""
    loop, pool = Loop(), KvPool(Memory(capacity_bytes=8.0, weight_bytes=0.0, kv_bytes_per_token=0.25,
                                       per_request_bytes=0.0))
    front = Front(loop, pool, lead_s=lambda p: 0.0, max_context=None)
    pager = Pager(front, pool, BatchingSpec(preemption="swap"), host_bps=2.0, gpus=1)  # a block: 16 x 0.25 = 4 B
    a, b = Request(0, 0.0, 16, 8), Request(1, 0.0, 8, 8)
    for r, ctx in ((a, 16), (b, 8)):
        r.context, r.generated, r.kv_bytes = ctx, 1, 4.0 if r is a else 2.0
        pool.reserve(r.kv_bytes, 0.0)
    live = [a, b]
    out = pager.grow([a], lambda: live.pop() if live else None, 0.0)  # a crosses a block: b (latest) is swapped
    assert out == [b] and b.swapped == 2.0 and b.context == 8
    assert pool.used + pager.host_used == pytest.approx(a.kv_bytes + b.swapped) and a.kv_bytes == 8.0
    assert pager.take_copy_s() == pytest.approx(1.0) and pager.take_copy_s() == 0.0
    pool.release(a.kv_bytes, 1.0)
    pool.reserve(2.0, 1.0)  # b re-admitted on its swapped bytes (the Front's need)
    assert pager.swap_in(b) and pager.host_used == 0 and pager.swapped_in_bytes == pager.swapped_out_bytes == 2.0
    assert pager.take_copy_s() == pytest.approx(1.0)


def test_swap_needs_paged_kv_and_a_host_link(scenario):
    with pytest.raises(PlmodelError) as e:
        BatchingSpec(kv="reserve", preemption="swap")
    assert e.value.field == "preemption"
    scn = scenario()
    scn = replace(scn, cloud=replace(scn.cloud, host_link_bytes_per_s=None))
    with pytest.raises(PlmodelError) as e:
        serve(scn, Workload("closed", users=1, requests=1), batching=BatchingSpec(preemption="swap"))
    assert e.value.field == "preemption"


@settings(max_examples=10, deadline=None)
@given(kind=st.sampled_from(["split", "cloud-only"]), policy=st.sampled_from(["cohort", "greedy", "hold"]),
       preemption=st.sampled_from(["recompute", "swap"]), lengths=st.sampled_from(["fixed", "exponential"]),
       scheduler=st.sampled_from(["prefill-first", "chunked"]), seed=st.integers(0, 1000))
def test_preemption_under_memory_pressure_conserves_blocks(scenario, kind, policy, preemption, lengths, scheduler, seed):
    """A GPU with room for the KV of ~5 requests' whole lengths, 24 users at once: requests are preempted (swapped
    or recomputed) again and again, yet every one completes, KV never exceeds capacity and at the end every
    block is free and every swapped byte came back (serve's invariants, which raise otherwise)."""
    scn = scenario(link=load_link("datacenter"), prompt_tokens=200)
    kv_bytes = 5 * 600 * memory_of(scn, 1).kv_bytes_per_token
    scn = replace(scn, cloud=replace(scn.cloud, memory_bytes=need_bytes(scn, kv_bytes)))
    w = Workload("closed", users=24, requests=48, prompt_tokens=200, output_tokens=400, lengths=lengths)
    m = serve(scn, w, server=kind, policy=PolicySpec(policy), batching=BatchingSpec(scheduler=scheduler,
              preemption=preemption), seed=seed).metrics
    assert m["completed"] + m["rejected"] == 48 and m["preemptions"] > 0
    assert m["kv_peak_bytes"] <= m["kv_capacity_bytes"]
    assert (m["swaps"] > 0) == (preemption == "swap")


def need_bytes(scn, kv_bytes: float) -> float:
    """A GPU's memory that leaves `kv_bytes` for the KV cache beside the weights (B)."""
    mem = memory_of(scn, 1)
    return (mem.weight_bytes + kv_bytes) * scn.cloud.memory_bytes / mem.capacity_bytes
