"""`plmodel fleet` and `plmodel capacity`: JSON fields, tables with units, one-line errors, Ctrl-C."""

import json
import signal
import subprocess
import sys

import pytest
from evidence import wait_for_output

from plmodel.fleet.capacity import BINDINGS


def plmodel(*args):
    return subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, timeout=300)


def test_capacity_json_has_the_issue_fields_and_gpus_scale_rates():
    """The closed-form capacity names both servers' rates, users, both costs, the replica size and what binds;
    --gpus 4 at one GPU a replica is four replicas: four times the rate at the same cost a token."""
    base = ("capacity", "--analytic", "--network", "datacenter", "--tpot-ms", "100", "--json", "--gpus-per-replica", "1")
    one, four = json.loads(plmodel(*base).stdout), json.loads(plmodel(*base, "--gpus", "4").stdout)
    for key in ("split_max_rate_per_s", "split_max_users", "cloud_only_max_rate_per_s", "cloud_only_max_users",
                "split_usd_per_million_output_tokens", "cloud_only_usd_per_million_output_tokens",
                "split_usd_per_million_tokens", "cloud_only_usd_per_million_tokens", "binding_limit",
                "split_gpus_a_replica", "cloud_only_replica_1_requests_per_s_per_gpu"):
        assert key in one
    assert one["binding_limit"] in BINDINGS and one["split_gpus_a_replica"] == 1 and four["split_replicas"] == 4
    assert four["split_max_rate_per_s"] == pytest.approx(4 * one["split_max_rate_per_s"], rel=1e-9)
    assert four["split_usd_per_million_tokens"] == pytest.approx(one["split_usd_per_million_tokens"], rel=1e-9)
    assert one["cloud_only_usd_per_million_tokens"] < one["split_usd_per_million_tokens"]
    share = one["output_tokens"] / (one["prompt_tokens"] + one["output_tokens"])
    assert one["split_usd_per_million_tokens"] == pytest.approx(one["split_usd_per_million_output_tokens"] * share)


def test_capacity_simulated_table_and_fleet_sizing():
    """The simulated search prints its figures with units beside the closed form, and GPUs for a fleet."""
    out = plmodel("capacity", "--network", "5g-edge", "--tpot-ms", "2000", "--prompt-tokens", "1024",
                  "--output-tokens", "32", "--server", "split", "--steps", "3", "--subscribers", "1e6", "--ttft-ms", "20000")
    assert out.returncode == 0, out.stderr
    for text in ("max requests/s", "closed form", "what binds", "kv_memory", "USD per million output tokens",
                 "USD per million tokens (in + out)", "Replica size", "GPUs a replica",
                 "GPUs for 1,000,000 subscribers", "ms"):
        assert text in out.stdout


def test_fleet_json_and_trace(tmp_path):
    """A CSV trace runs on both servers; every request completes; the JSON is flat."""
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,prompt_tokens,output_tokens\n" + "".join(f"{i * 0.05},{64 + i},{8}\n" for i in range(30)))
    kv = tmp_path / "kv.csv"
    out = plmodel("fleet", "--arrival", "trace", "--trace-csv", str(trace), "--network", "5g-edge", "--json",
                  "--kv-csv", str(kv))
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    rows = kv.read_text().splitlines()
    assert rows[0] == "server,time_s,kv_bytes,kv_fraction"
    for kind in ("split", "cloud-only"):  # paged, both: the prompt's blocks, blocks as contexts grow, the release
        mine = [x for x in rows[1:] if x.startswith(kind + ",")]
        assert len(mine) > 2 * 30 and float(mine[-1].split(",")[2]) == 0
    assert max(float(x.split(",")[3]) for x in rows[1:]) <= 1
    assert r["split_completed"] == r["cloud_only_completed"] == 30
    assert r["split_ttft_p50_s"] > r["cloud_only_ttft_p50_s"]
    assert all(not isinstance(v, (dict, list)) for v in r.values())


@pytest.mark.parametrize("args,fragment", [
    (["fleet", "--rate", "0"], "--rate"),
    (["fleet", "--arrival", "closed"], "--users"),
    (["fleet", "--arrival", "trace", "--trace-csv", "/nonexistent.csv"], "--trace-csv"),
    (["fleet", "--cohort-size", "0"], "--cohort-size"),
    (["fleet", "--kv-csv", "/nonexistent/kv.csv"], "--kv-csv"),
    (["capacity", "--tpot-ms", "-1"], "--tpot-ms"),
    (["capacity", "--model", "70b", "--gpus", "3"], "--gpus"),
    (["capacity", "--model", "70b", "--gpus-per-replica", "1", "--analytic"], "--gpus-per-replica"),
    (["capacity", "--prompt-tokens", "5000", "--analytic"], "--prompt-tokens"),
])
def test_bad_fleet_options_get_one_line(args, fragment):
    out = plmodel(*args)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], out.stderr


def test_sigterm_during_fleet_is_clean():
    """SIGTERM while a fleet runs: exit 143 and one line, once it shows progress."""
    proc = subprocess.Popen([sys.executable, "-m", "plmodel", "fleet", "--arrival", "closed", "--users", "500",
                             "--requests", "20000", "--network", "5g-sa-lowband-jitter", "--policy", "greedy",
                             "--progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_output(proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("ERROR: interrupted by SIGTERM")


def test_fleet_runs_the_replica_size_asked():
    """--gpus-per-replica sets the tensor-parallel group the fleet serves on: 13B on four GPUs reads a quarter of
    its weights a GPU, so cloud-only's iterations are shorter, and the group is paid for; a size that cannot hold
    the model or divide its heads is refused in one line naming the option."""
    base = ("fleet", "--model", "13b", "--cloud", "a100-80g-sxm", "--network", "datacenter", "--server", "cloud-only",
            "--rate", "4", "--requests", "60", "--json")
    one, four = (json.loads(plmodel(*base, "--gpus-per-replica", n).stdout) for n in ("1", "4"))
    assert (one["gpus"], four["gpus"]) == (1, 4)
    assert four["cloud_only_tpot_mean_s"] < one["cloud_only_tpot_mean_s"]
    assert four["cloud_only_usd_per_million_output_tokens"] > one["cloud_only_usd_per_million_output_tokens"]
    bad = plmodel("fleet", "--model", "70b", "--gpus-per-replica", "1")
    assert bad.returncode == 2 and bad.stderr.startswith("ERROR: --gpus-per-replica:") and len(bad.stderr.splitlines()) == 1


def test_fleet_closed_loop_table_names_its_load_and_preemption():
    """The table's header says a closed loop's users (no rate to print) and how paged KV preempts."""
    out = plmodel("fleet", "--arrival", "closed", "--users", "4", "--requests", "8", "--network", "datacenter",
                  "--preemption", "swap")
    assert out.returncode == 0, out.stderr
    assert "closed loop, 4 users, think 0 s" in out.stdout and "paged KV, preemption by swap" in out.stdout
    bad = plmodel("fleet", "--kv", "reserve", "--preemption", "swap")
    assert bad.returncode == 2 and "--preemption" in bad.stderr
