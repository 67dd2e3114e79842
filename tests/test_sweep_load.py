"""The load axes of a sweep: users, arrival, rate and the SLOs, served by the simulation and fleet
engines; the analytical engine refuses them in one line."""

import pytest

from plmodel.errors import PlmodelError
from plmodel.fleet.arrivals import Workload
from plmodel.fleet.run import serve
from plmodel.studies.records import run_tasks
from plmodel.studies.sweep import load_sweep

BASE = "models: 7b\nranks: 64\nnetwork: 5g-edge\nprompt_tokens: 64\n"


def sweep(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(BASE + text)
    return load_sweep(path)


def test_fleet_engine_serves_each_rate_split_and_cloud_only(tmp_path):
    cfg = sweep(tmp_path, "engine: fleet\ntokens: 16\nrequests: 40\narrival: poisson\nrate: [1, 3]\ntpot_ms: 800\n")
    recs = run_tasks(cfg.tasks, 1, False)
    assert [(r["rate_per_s"], r["server"]) for r in recs] == [(1.0, "split"), (1.0, "cloud-only"), (3.0, "split"),
                                                              (3.0, "cloud-only")]
    scn = cfg.tasks[1].scenario
    direct = serve(scn, Workload("poisson", 3.0, 40, 64, 16), server="split", slo=(None, 0.8), seed=0,
                   gpus=recs[2]["gpus_a_replica"]).metrics
    assert recs[2]["tpot_p90_s"] == direct["tpot_p90_s"] and recs[2]["goodput_tokens_per_s"] == direct["goodput_tokens_per_s"]
    assert recs[2]["throughput_tokens_per_s"] > recs[0]["throughput_tokens_per_s"]


def test_simulation_engine_sweeps_users(tmp_path):
    cfg = sweep(tmp_path, "engine: simulation\ntokens: 4\nusers: [1, 3]\nphases: decode\n")
    one, three = run_tasks(cfg.tasks, 1, False)
    assert (one["users"], three["users"]) == (1, 3)
    assert three["aggregate_tokens_per_s"] > 2 * one["aggregate_tokens_per_s"]


@pytest.mark.parametrize("text,message", [
    ("rate: [1, 2]\narrival: poisson\n", 'field "rate": the analytical engine serves no load'),
    ("users: 4\n", 'field "users": the analytical engine serves no load'),
    ("engine: simulation\ntpot_ms: 200\n", "only the fleet engine counts goodput"),
    ("engine: fleet\narrival: poisson\n", 'field "rate": a Poisson arrival needs a rate'),
    ("engine: fleet\nusers: 0\n", 'field "users": expected integers from 1'),
    ("engine: fleet\narrival: open\n", 'field "arrival": expected closed or poisson'),
])
def test_bad_load_axes(tmp_path, text, message):
    with pytest.raises(PlmodelError) as e:
        sweep(tmp_path, text)
    assert message in str(e.value)


def test_fleet_study_report_and_figure(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "f.yaml"
    path.write_text(BASE + "engine: fleet\ntokens: 8\nrequests: 20\nusers: [1, 4]\nnetwork: [5g-edge, datacenter]\n")
    out = subprocess.run([sys.executable, "-m", "plmodel", "sweep", str(path), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    report = (tmp_path / "o" / "REPORT.md").read_text()
    assert "![load](load.png)" in report and "| llama-2-7b | datacenter | cloud-only | 4 |" in report


def test_fleet_policy_axis(tmp_path):
    cfg = sweep(tmp_path, "engine: fleet\ntokens: 8\nrequests: 20\nusers: 4\npolicy: [cohort, greedy]\n")
    recs = run_tasks(cfg.tasks, 1, False)
    assert [(r["policy"], r["server"]) for r in recs] == [("cohort", "split"), ("cohort", "cloud-only"),
                                                          ("greedy", "split"), ("greedy", "cloud-only")]
    with pytest.raises(PlmodelError) as e:
        sweep(tmp_path, "engine: simulation\npolicy: greedy\n")
    assert "only the fleet engine batches" in str(e.value)


def test_fleet_scheduler_axis(tmp_path):
    """The cloud-only scheduler is a fleet axis: each value in its record, changing cloud-only's figures; the
    other engines and unknown names refused."""
    cfg = sweep(tmp_path, "engine: fleet\ntokens: 8\nrequests: 20\nusers: 8\n"
                          "scheduler: [prefill-first, chunked]\n")
    recs = [r for r in run_tasks(cfg.tasks, 1, False) if r["server"] == "cloud-only"]
    assert [r["scheduler"] for r in recs] == ["prefill-first", "chunked"]
    assert recs[0]["ttft_p50_s"] != recs[1]["ttft_p50_s"]
    for text, message in (("engine: simulation\nscheduler: chunked\n", "only the fleet engine schedules"),
                          ("engine: fleet\nscheduler: fcfs\n", 'field "scheduler": expected one of')):
        with pytest.raises(PlmodelError) as e:
            sweep(tmp_path, text)
        assert message in str(e.value)


def test_fleet_replica_size_axis(tmp_path):
    """gpus_per_replica: auto (the default) takes each server's size as `capacity` chooses it at the point's SLO and
    the record states it; a size asked is served on that many GPUs; other engines and unknown sizes refused."""
    from plmodel.fleet import replicas
    from plmodel.fleet.capacity import Case, Slo

    cfg = sweep(tmp_path, "engine: fleet\ntokens: 128\nrequests: 8\nusers: 4\ntpot_ms: 2000\ngpus_per_replica: [auto, 2]\n")
    recs = run_tasks(cfg.tasks, 1, False)
    scn = cfg.tasks[0].scenario
    auto = {k: replicas.size(Case(scn, k, Slo(2.0, Slo.ttft_s), 64, 128)).chosen for k in ("split", "cloud-only")}
    assert auto["split"] > 1  # over 5G split fills the memory of a larger group (the test would not tell otherwise)
    assert [(r["gpus_per_replica"], r["server"], r["gpus_a_replica"]) for r in recs] == [
        ("auto", "split", auto["split"]), ("auto", "cloud-only", auto["cloud-only"]), ("2", "split", 2),
        ("2", "cloud-only", 2)]
    for text, message in (("engine: simulation\ngpus_per_replica: 2\n", "only the fleet engine sizes a replica"),
                          ("engine: fleet\ngpus_per_replica: 3\n", 'field "gpus_per_replica": expected one of')):
        with pytest.raises(PlmodelError) as e:
            sweep(tmp_path, text)
        assert message in str(e.value)
