"""The replica size (fleet/replicas.py), what binds a capacity (fleet/capacity.BINDINGS) and its two costs."""

from dataclasses import replace

import pandas as pd
import pytest

from plmodel.errors import PlmodelError
from plmodel.fleet import replicas
from plmodel.fleet.capacity import BINDINGS, Case, Slo, analytic_capacity
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.pricing import cost_at_load, served_cost, served_on
from plmodel.fleet.replica import groups
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS
from plmodel.specs import AdapterSpec, Scenario


def case(scenario, model="llama-2-7b", network="datacenter", kind="split", tpot_s=0.2, ttft_s=10.0, prompt=512,
         output=256):
    return Case(scenario(model, link=load_link(network), prompt_tokens=prompt), kind, Slo(tpot_s, ttft_s), prompt, output)


def test_70b_cloud_only_is_cheaper_on_four_nvlinked_gpus_than_on_two(scenario):
    """Two A100s hold one copy of 70B's weights and little KV cache (memory binds at ~60-70 requests reserving their
    whole length, ~80 with paged KV holding each at its mean context); four SXM
    A100s (NVLink) serve more requests a GPU, so the search chooses four, and the cost a token falls exactly as
    the requests a GPU rise. Over PCIe the all-reduces eat the gain and two stay the cheaper."""
    c = case(scenario, "llama-2-70b", kind="cloud-only")
    s = replicas.size(replace(c, scn=replace(c.scn, cloud=load_hardware("a100-80g-sxm"))))
    two, four = s.of(2), s.of(4)
    assert [o.gpus for o in s.options] == [2, 4, 8] and s.chosen == 4
    assert two.binding_limit == "kv_memory" and 55 <= two.max_users <= 90
    gain = (four.max_rate_per_s / 4) / (two.max_rate_per_s / 2)
    assert gain > 1.2
    assert four.usd_per_million_output_tokens / two.usd_per_million_output_tokens == pytest.approx(1 / gain, rel=1e-9)
    pcie = replicas.size(c)
    assert c.scn.cloud.interconnect_bytes_per_s < load_hardware("a100-80g-sxm").interconnect_bytes_per_s
    assert pcie.chosen == 2 and pcie.of(4).max_rate_per_s / 4 < pcie.of(2).max_rate_per_s / 2


def test_the_choice_is_the_lowest_cost_a_token_and_a_tie_keeps_the_smaller(scenario):
    """Auto picks the size of fewest GPU-seconds a token (within TIE, the smallest such)."""
    s = replicas.size(case(scenario, kind="cloud-only"))
    best = min(replicas.per_token_s(o) for o in s.options)
    chosen = s.of(s.chosen)
    assert replicas.per_token_s(chosen) <= best * (1 + replicas.TIE)
    assert all(replicas.per_token_s(o) > best * (1 + replicas.TIE) for o in s.options if o.gpus < s.chosen)


def test_a_fixed_size_that_cannot_hold_the_model_is_refused(scenario):
    """70B's weights do not fit one A100: --gpus-per-replica 1 is refused, naming the field."""
    with pytest.raises(PlmodelError) as e:
        replicas.size(case(scenario, "llama-2-70b"), "1")
    assert e.value.field == "gpus_per_replica"
    assert replicas.size(case(scenario, "llama-2-70b"), "8").chosen == 8


def test_sizes_divide_the_gpus_in_all(scenario):
    """With 4 GPUs in all, 8 a replica is not tried; with 3, no 70B replica (2, 4 or 8 GPUs) is."""
    c = case(scenario)
    assert replicas.sizes(c, 4) == [1, 2, 4] and replicas.sizes(c) == [1, 2, 4, 8]
    with pytest.raises(PlmodelError) as e:
        replicas.size(case(scenario, "llama-2-70b"), "auto", 3)
    assert e.value.field == "gpus"


@pytest.mark.parametrize("network,kind,tpot_s,ttft_s,binding,missed", [
    ("5g-median", "split", 0.2, 10.0, "link", "tpot"),  # 33 round trips of 51 ms a token
    ("datacenter", "split", 0.2, 0.001, "ttft_slo", "ttft"),  # the prefill alone takes longer, link or not
    ("datacenter", "cloud-only", 0.001, 10.0, "tpot_slo", "tpot"),  # one decode step alone takes longer
    ("datacenter", "split", 0.06, 10.0, "tpot_slo", "tpot"),  # met at low load, missed as the cohorts grow
    ("datacenter", "cloud-only", 0.2, 10.0, "kv_memory", None),
])
def test_binding_names_what_binds(scenario, network, kind, tpot_s, ttft_s, binding, missed):
    """Each name of BINDINGS where it binds, and the target missed first."""
    c = analytic_capacity(replace(case(scenario, network=network, kind=kind, tpot_s=tpot_s, ttft_s=ttft_s), gpus=1))
    assert binding in BINDINGS
    assert (c.binding_limit, c.slo_missed) == (binding, missed)


def test_70b_split_at_the_5g_edge_misses_its_first_token_for_the_link(scenario):
    """70B's prefill at the 5G edge: its round trips make one request alone miss a 10 s TTFT (not its time per
    token); with no TTFT target to speak of, memory binds instead."""
    c = analytic_capacity(case(scenario, "llama-2-70b", "5g-edge", tpot_s=2.0))
    assert (c.binding_limit, c.slo_missed, c.max_rate_per_s) == ("link", "ttft", 0.0)
    assert analytic_capacity(case(scenario, "llama-2-70b", "5g-edge", tpot_s=2.0, ttft_s=100.0)).binding_limit == "kv_memory"


def test_cost_per_token_counts_the_prompt(scenario):
    """USD per million tokens is USD per million output tokens times output / (prompt + output)."""
    c = analytic_capacity(case(scenario))
    assert c.usd_per_million_tokens == pytest.approx(c.usd_per_million_output_tokens * 256 / (512 + 256), rel=1e-12)


def test_the_study_report_states_replica_sizes_and_the_kv_bytes_a_token(tmp_path):
    """A capacity study (closed forms) records the chosen size and each size tried, and its report has the
    sizes table and how the verdict moves with the KV cache a token, GQA named."""
    from plmodel.studies import capacity_study
    from plmodel.studies.tables import markdown

    path = tmp_path / "s.yaml"
    path.write_text("models: [7b, llama-3-8b]\nnetworks: [5g-edge]\ntpot_ms: 2000\nprompt_tokens: 512\n"
                    "output_tokens: 256\ncloud: a100-80g-sxm\n")
    study = capacity_study.load_study(path)
    rows = capacity_study.run_study(study, analytic_only=True)
    df = pd.DataFrame(rows)
    assert set(df["binding_limit"]) <= set(BINDINGS)
    for _, r in df.iterrows():
        assert pd.notna(r.get(f"replica_{r['gpus_a_replica']}_requests_per_s_per_gpu"))  # the chosen was tried
        assert r["usd_per_million_tokens"] == pytest.approx(r["usd_per_million_output_tokens"] / 3, rel=1e-12)
    text = capacity_study.report_markdown(study, df, markdown)
    assert "## Replica size" in text and "## The verdict and the KV cache a token" in text
    assert "llama-3-8b (GQA, 8 KV heads for 32" in text and "llama-2-7b (MHA" in text
    kv = df.groupby("model")["kv_bytes_per_token"].max()
    assert kv["llama-2-7b"] == pytest.approx(4 * kv["llama-3-8b"])


def test_a_study_simulates_no_replica_fuller_than_its_bound(tmp_path):
    """max_simulated_users: a point whose closed form holds more requests in flight keeps the closed form."""
    from plmodel.studies import capacity_study

    path = tmp_path / "s.yaml"
    path.write_text("models: 7b\nnetworks: datacenter\ntpot_ms: 200\nmax_simulated_users: 1\n")
    rows = capacity_study.run_study(capacity_study.load_study(path))
    assert {r["source"] for r in rows} == {"analytic"} and all(r["max_users"] > 1 for r in rows)


def test_the_estimate_cost_view_prices_each_server_on_its_cheapest_replica_size():
    """cost_at_load tries every group that holds the model and keeps, for each server, the one of the lowest cost
    a token at the load: 70B at 300 requests in flight on NVLinked A100s is cheapest on 4 GPUs for both, below
    the 2-GPU group a replica was before."""
    scn = Scenario(PRESETS["llama-2-70b"], AdapterSpec(64, 64), load_hardware("a100-80g-sxm"),
                   load_hardware("iphone-15-pro"), load_link("datacenter"), 1, 512, "realistic")
    c = cost_at_load(scn, 512, 256, 300)
    each = {g: served_on(scn, g, 300, 512, 256, policy=PolicySpec(), batching=BatchingSpec()) for g in groups(scn)}
    split = {g: served_cost(scn, o[0])[0] for g, o in each.items()}
    cloud = {g: served_cost(scn, o[1])[0] for g, o in each.items()}
    assert groups(scn) == [2, 4, 8]
    assert c.split_gpus_a_replica == min(split, key=split.get) == 4 and c.cloud_only_gpus_a_replica == min(cloud, key=cloud.get) == 4
    assert c.split_usd_per_million_output_tokens == pytest.approx(split[4]) and split[4] < split[2]
    assert c.cloud_only_usd_per_million_output_tokens == pytest.approx(cloud[4]) and cloud[4] < cloud[2]


@pytest.mark.parametrize("model, cloud, network, users, scheduler", [
    ("llama-2-7b", "a100-80g-pcie", "5g-edge", None, "prefill-first"),
    ("llama-2-13b", "a100-80g-sxm", "datacenter", 40.0, "prefill-first"),
    ("llama-2-70b", "a100-80g-sxm", "datacenter", 300.0, "prefill-first"),
    ("llama-3-8b", "h100-sxm", "5g-median", 2000.0, "chunked"),
    ("llama-2-7b", "l4", "datacenter", 3.0, "prefill-first")])
def test_the_cost_views_bound_skips_only_options_never_chosen(monkeypatch, model, cloud, network, users, scheduler):
    """cost_at_load skips solving cloud-only's steady state on a replica size whose decode iteration alone takes
    more GPU-seconds a token than a size already tried; it answers as choosing among every size does (each
    server's fewest GPU-seconds a token, the smallest size of equals), and on 7B at the edge it does skip."""
    from plmodel.fleet import analytic

    scn = Scenario(PRESETS[model], AdapterSpec(64, 64), load_hardware(cloud), load_hardware("iphone-15-pro"),
                   load_link(network), 1, 128, "realistic")
    batching = BatchingSpec(scheduler=scheduler)
    solved, solve = [], analytic.cloud_only_load
    monkeypatch.setattr(analytic, "cloud_only_load", lambda *a: solved.append(a[1]) or solve(*a))
    got = cost_at_load(scn, 128, 128, users, batching=batching)
    solves = len(solved)
    n = float(users or analytic.max_concurrency(scn, groups(scn)[0], 128, 128))
    each = [o for o in (served_on(scn, g, n, 128, 128, policy=PolicySpec(), batching=batching) for g in groups(scn)) if o]
    split, cloud_only = (min((o[i] for o in each), key=lambda r: served_cost(scn, r)[1] or float("inf")) for i in (0, 1))
    assert (got.split_gpus_a_replica, got.split_replicas, got.split_tokens_per_s) == split[:3]
    assert (got.cloud_only_gpus_a_replica, got.cloud_only_replicas, got.cloud_only_tokens_per_s) == cloud_only[:3]
    if (model, network) == ("llama-2-7b", "5g-edge"):
        assert solves < len(groups(scn)), solved
