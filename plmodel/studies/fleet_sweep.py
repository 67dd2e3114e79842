"""The fleet engine of a sweep: each point served by one replica (plmodel.fleet.serve) split and
cloud-only under its load axes (users or a Poisson rate, SLOs), a record a server with the fleet's
metrics and the replica's GPUs (gpus_per_replica: auto, the size `capacity` chooses at the point's SLO,
the capacity's defaults where it sets none; or a size); and what a study of them reports
(a table, and latency and throughput against the load)."""

from __future__ import annotations

from plmodel.fleet import replicas
from plmodel.fleet.arrivals import Workload
from plmodel.fleet.capacity import Case, Slo
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.pricing import all_tokens, cost
from plmodel.fleet.run import serve
from plmodel.studies.tables import markdown

#: The fleet metrics a record carries (SI units), beside its inputs and load.
FLEET_KEYS = ("completed", "rejected", "preemptions", "throughput_tokens_per_s", "goodput_tokens_per_s", "ttft_p50_s", "ttft_p90_s",
              "ttft_p99_s", "tpot_p50_s", "tpot_p90_s", "tpot_p99_s", "e2e_p90_s", "queue_p90_s", "mean_concurrency",
              "gpu_busy", "mean_batch_sequences", "kv_mean_occupancy", "kv_capacity_bytes")


def fleet_records(task, inputs: dict) -> list:
    """Two records, split and cloud-only, of one point served under its load."""

    scn, load = task.scenario, task.load
    w = Workload(load.arrival, load.rate_per_s, task.requests, scn.prompt_tokens, task.tokens,
                 users=load.users if load.arrival == "closed" else None)
    policy, batching = PolicySpec(load.policy), BatchingSpec(scheduler=load.scheduler)
    slo = Slo(load.tpot_s or Slo.tpot_s, load.ttft_s or Slo.ttft_s)
    out = []
    for kind in ("split", "cloud-only"):
        case = Case(scn, kind, slo, scn.prompt_tokens, task.tokens, policy, batching)
        gpus = replicas.size(case, load.gpus_per_replica).chosen
        m = serve(scn, w, server=kind, policy=policy, batching=batching, slo=(load.ttft_s, load.tpot_s), seed=task.seed,
                  gpus=gpus).metrics
        usd = cost(scn, gpus, m["throughput_tokens_per_s"], m["kv_mean_occupancy"] * m["kv_capacity_bytes"])[0]
        out.append({**inputs, "server": kind, "arrival": load.arrival, "users": load.users, "rate_per_s": load.rate_per_s,
                    "tpot_slo_s": load.tpot_s, "ttft_slo_s": load.ttft_s, "policy": load.policy,
                    "scheduler": load.scheduler,
                    "requests": task.requests,
                    "tokens": task.tokens, "seed": task.seed, "gpus_per_replica": load.gpus_per_replica,
                    "gpus_a_replica": gpus,
                    **{k: m.get(k) for k in FLEET_KEYS}, "usd_per_million_output_tokens": usd,
                    "usd_per_million_tokens": all_tokens(usd, w.prompt_tokens, w.output_tokens)})
    return out


def is_fleet(df) -> bool:
    return "server" in df.columns and "phase" not in df.columns


def report_lines(df) -> list:
    """REPORT.md's table: a row a model, network, server and load."""

    load = "rate_per_s" if df["arrival"].eq("poisson").all() else "users"
    keys = ["model", "network", "server", load]
    t = df.groupby(keys, sort=False, as_index=False).agg(
        throughput_tokens_per_s=("throughput_tokens_per_s", "mean"), tpot_p90_ms=("tpot_p90_s", "mean"),
        ttft_p90_ms=("ttft_p90_s", "mean"), gpu_busy=("gpu_busy", "mean"),
        usd_per_million_output_tokens=("usd_per_million_output_tokens", "mean"),
        usd_per_million_tokens=("usd_per_million_tokens", "mean"))
    t["tpot_p90_ms"] *= 1e3
    t["ttft_p90_ms"] *= 1e3
    return ["## Served load, a row a model, network, server and load (mean over the other axes)", "", markdown(t), ""]
