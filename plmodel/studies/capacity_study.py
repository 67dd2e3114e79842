"""A capacity study: `plmodel capacity --study FILE --out DIR` over models x networks x targets, split
and cloud-only, each by simulation (closed form beside it), written like a sweep's study folder:
results.csv and results.parquet, fleet_capacity.png, REPORT.md, PROVENANCE.json and the config, atomically.

The YAML keys: name, models, networks (profiles), tpot_ms (targets), ttft_ms, percentile,
prompt_tokens, output_tokens, rank, cloud, device, policy, cohort_size, scheduler (cloud-only's:
prefill-first or chunked), gpus_per_replica (auto, the
default: the size with the lowest cost a token by the closed forms, fleet/replicas.py; or 1, 2, 4, 8),
max_simulated_users (default MAX_SIMULATED_USERS: a point whose closed form puts more requests in flight on
its replica keeps the closed form, `source` analytic, and the report says so). Lists or single values where
plural; paths relative to the file.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import replace
from pathlib import Path

from plmodel.errors import PlmodelError
from plmodel.fleet import replicas
from plmodel.fleet.capacity import Case, Search, Slo, simulated_capacity
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.memory import memory_of
from plmodel.fleet.policies import POLICIES, PolicySpec
from plmodel.frozen import frozen
from plmodel.io.profiles import check_keys, load_hardware, load_link, read_mapping, relative_to_file
from plmodel.models import resolve_model
from plmodel.specs import AdapterSpec, Scenario
from plmodel.studies.backends import ordered_map
from plmodel.studies.capacity_text import kv_findings, replica_lines
from plmodel.studies.plots import fleet_capacity, save
from plmodel.studies.provenance import provenance, scenario_specs
from plmodel.studies.report import atomic_folder
from plmodel.studies.tables import markdown

SCHEMA = {"name": False, "models": True, "networks": True, "tpot_ms": True, "ttft_ms": False, "percentile": False,
          "prompt_tokens": False, "output_tokens": False, "rank": False, "cloud": False, "device": False,
          "policy": False, "cohort_size": False, "scheduler": False, "gpus_per_replica": False, "max_simulated_users": False}
#: Requests in flight above which a point is not simulated: a search runs ~10 runs of 10x this many requests,
#: and a run's time grows with its requests x output tokens (a 400-user replica at 256 output tokens: minutes).
MAX_SIMULATED_USERS = 400


#: Requests a user sends an hour, to turn a request rate into users a GPU serves (an assumption, stated).
USER_REQUESTS_PER_HOUR = 10


@frozen
class Point:
    scenario: Scenario  # what provenance reads
    case: Case
    gpus_per_replica: str = "auto"  # replicas.CHOICES
    max_simulated_users: float = MAX_SIMULATED_USERS


@frozen
class Study:
    name: str
    tasks: tuple  # Points


def _list(data: dict, key: str, src: str) -> list:
    v = data[key]
    out = v if isinstance(v, list) else [v]
    if not out:
        raise PlmodelError(f'field "{key}": expected at least one value', src)
    return out


def _number(data: dict, key: str, src: str, default, integer=False):
    v = data.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)) or not v > 0:
        raise PlmodelError(f'field "{key}": expected a positive {"integer" if integer else "number"}, got {v!r}', src)
    return v


def load_study(path) -> Study:
    """Read and validate a study YAML; every error names the file and the field."""
    path, src = Path(path), str(path)
    if not path.is_file():
        raise PlmodelError(f"--study: no file {path}")
    data = read_mapping(path)
    check_keys(data, SCHEMA, src)
    policy_name = data.get("policy", "cohort")
    if policy_name not in POLICIES:
        raise PlmodelError(f'field "policy": expected one of {", ".join(POLICIES)}, got {policy_name!r}', src)
    policy = PolicySpec(policy_name, cohort_size=_number(data, "cohort_size", src, 64, True))
    try:
        batching = BatchingSpec(scheduler=data.get("scheduler", BatchingSpec.scheduler))
    except PlmodelError as exc:
        raise PlmodelError(f'field "scheduler": {exc}', src) from None
    rank, prompt = _number(data, "rank", src, 64, True), _number(data, "prompt_tokens", src, 128, True)
    output, ttft = _number(data, "output_tokens", src, 128, True), _number(data, "ttft_ms", src, 10000)
    pct = data.get("percentile", 90)
    if pct not in (50, 90, 99):
        raise PlmodelError(f'field "percentile": expected 50, 90 or 99, got {pct!r}', src)
    asked = str(data.get("gpus_per_replica", "auto"))
    if asked not in replicas.CHOICES:
        raise PlmodelError(f'field "gpus_per_replica": expected one of {", ".join(replicas.CHOICES)}, got {asked!r}', src)
    most = _number(data, "max_simulated_users", src, MAX_SIMULATED_USERS)
    cloud = load_hardware(relative_to_file(src, data.get("cloud", "a100-80g-pcie")), f"{src}: cloud")
    device = load_hardware(relative_to_file(src, data.get("device", "iphone-13-pro-max")), f"{src}: device")
    points = []
    for model, network, tpot in itertools.product(_list(data, "models", src), _list(data, "networks", src),
                                                  _list(data, "tpot_ms", src)):
        try:
            scn = Scenario(resolve_model(str(model)), AdapterSpec(rank, rank), cloud, device,
                           load_link(relative_to_file(src, str(network)), f"{src}: networks"), 1, prompt)
        except PlmodelError as exc:
            raise exc.named({}, src) from None
        slo = Slo(_number({"tpot_ms": tpot}, "tpot_ms", src, None) / 1e3, ttft / 1e3, pct)
        for kind in ("split", "cloud-only"):
            points.append(Point(scn, Case(scn, kind, slo, prompt, output, policy, batching), asked, most))
    return Study(data.get("name") or path.stem, tuple(points))


def run_study(study: Study, analytic_only: bool = False, progress=None, poll=None, *, backend: str = "serial",
              jobs: int = 1, address: str | None = None) -> list:
    """One record a point: the capacity (simulated unless `analytic_only`) and the closed form's; the points'
    searches run on `backend` (backends.py), `poll()` between them (and inside them, serially)."""
    import functools

    work = functools.partial(study_row, analytic_only=analytic_only, poll=poll if backend == "serial" else None)
    rows, results = [], ordered_map(work, list(study.tasks), backend, jobs, address)
    try:
        for row in results:
            rows.append(row)
            if poll:
                poll()
            if progress:
                progress(len(rows), len(study.tasks))
    finally:
        results.close()
    return rows


def study_row(p: Point, analytic_only: bool = False, poll=None) -> dict:
    """The record of one point of a study: the replica size chosen by the closed forms, its capacity (simulated
    unless `analytic_only`), and each size tried (`replica_<GPUs>_<key>`, closed forms)."""
    sized = replicas.size(p.case, p.gpus_per_replica)
    a = sized.of(sized.chosen)
    simulate = not analytic_only and a.max_users <= p.max_simulated_users
    c = simulated_capacity(replace(p.case, gpus=sized.chosen), Search(), poll=poll) if simulate else a
    s = p.scenario
    tried = {f"replica_{r['gpus_a_replica']}_{k}": r[k] for r in replicas.table_rows(sized) for k in SIZE_KEYS}
    return {"model": s.model.name, "network": s.link.name, "rtt_s": s.link.rtt_s, "server": p.case.kind,
            "tpot_slo_s": p.case.slo.tpot_s, "ttft_slo_s": p.case.slo.ttft_s, "gpus_a_replica": c.gpus,
            "heads": s.model.n_heads, "kv_heads": s.model.n_kv_heads,
            "kv_bytes_per_token": memory_of(s, c.gpus, False, p.case.kind).kv_bytes_per_token,
            "max_rate_per_s": c.max_rate_per_s, "max_users": c.max_users, "requests_per_s_per_gpu": c.max_rate_per_s / c.gpus,
            "users_per_gpu_at_10_an_hour": c.max_rate_per_s / c.gpus * 3600 / USER_REQUESTS_PER_HOUR,
            "tokens_per_s": c.tokens_per_s, "tpot_s": c.tpot_s, "binding_limit": c.binding_limit, "slo_missed": c.slo_missed,
            "usd_per_million_output_tokens": c.usd_per_million_output_tokens,
            "usd_per_million_tokens": c.usd_per_million_tokens, "gpu_s_per_token": c.gpu_s_per_token, "source": c.source,
            "analytic_max_rate_per_s": a.max_rate_per_s, "analytic_max_users": a.max_users, **tried}


#: What a record says of each replica size tried, as `replica_<GPUs>_<key>`.
SIZE_KEYS = ("requests_per_s_per_gpu", "usd_per_million_output_tokens", "usd_per_million_tokens", "binding_limit")


def write(out, config_path, study: Study, rows: list, force: bool = False) -> list:
    """The study folder, atomically; returns the names written."""
    import pandas as pd

    df = pd.DataFrame(rows)
    with atomic_folder(out, force) as tmp:
        df.to_csv(tmp / "results.csv", index=False)
        df.to_parquet(tmp / "results.parquet", index=False)
        save(fleet_capacity(df), tmp / "fleet_capacity", dpi=110)
        (tmp / "REPORT.md").write_text(report_markdown(study, df, markdown))
        used = scenario_specs(p.scenario for p in study.tasks)
        (tmp / "PROVENANCE.json").write_text(json.dumps(provenance(config_path, used), indent=1) + "\n")
        shutil.copyfile(config_path, tmp / Path(config_path).name)
        names = sorted(p.name for p in tmp.iterdir())
    return names


def report_markdown(study: Study, df, markdown) -> str:
    c, asked = study.tasks[0].case, study.tasks[0].gpus_per_replica
    size = "the size with the lowest cost a token by the closed forms" if asked == "auto" else f"{asked} GPUs"
    cols = ["model", "network", "tpot_slo_s", "server", "gpus_a_replica", "max_rate_per_s", "analytic_max_rate_per_s",
            "max_users", "users_per_gpu_at_10_an_hour", "tpot_s", "binding_limit", "slo_missed", "usd_per_million_output_tokens",
            "usd_per_million_tokens"]
    lines = [f"# Capacity study: {study.name}", "",
             f"Requests of {c.prompt} prompt + {c.output} generated tokens, Poisson arrivals, on "
             f"{c.scn.cloud.name} replicas (tensor-parallel groups of 1, 2, 4 or 8 GPUs: {size}; the sizes tried "
             "are below), devices "
             f"{c.scn.device.name}, PrivateLoRA rank {c.scn.adapter.r_c2d} on q, k, v; split served with the "
             f"`{c.policy.name}` policy, cloud-only with continuous batching ({c.batching.scheduler}), both on "
             f"{c.batching.kv} KV (preemption by {c.batching.preemption}). For each time-per-token target "
             f"(p{c.slo.percentile}, TTFT within {c.slo.ttft_s:g} s), the largest request rate one replica "
             "carries, found by simulation (`source`), with the closed form's beside it; a replica the closed form "
             f"fills with more than {study.tasks[0].max_simulated_users:g} requests in flight is not simulated (its "
             "search would take hours), its `source` analytic: the tests hold the closed forms within 10 % of the "
             "simulation. Times come from the "
             "runtime model (anchored to published speeds, or peak). Cost: the replica's GPUs at the "
             "profile's hourly price over the tokens delivered at that rate, per million output tokens "
             "(`usd_per_million_output_tokens`) and per million tokens, prompt and output, as API price lists count "
             "(`usd_per_million_tokens`). What binds: docs/commands/capacity.md. `max_users`: requests in flight at "
             f"that rate; `users_per_gpu_at_10_an_hour`: users a GPU serves if each sends {USER_REQUESTS_PER_HOUR} "
             "requests an hour (an assumption).", "",
             markdown(df[cols]), "", "![capacity](fleet_capacity.png)", "", *findings(df), "",
             *replica_lines(df, markdown), *kv_findings(df)]
    return "\n".join(lines) + "\n"


def gpus(r) -> str:
    return f"{r['gpus_a_replica']} GPU{'s' if r['gpus_a_replica'] > 1 else ''}"


def binds(r) -> str:
    """What binds a record, and the target missed where a target, the GPU or the link binds."""
    missed = r.get("slo_missed")
    shown = isinstance(missed, str) and r["binding_limit"] in ("link", "compute")
    return f"{r['binding_limit']} binds" + (f", {missed} missed first" if shown else "")


def findings(df) -> list:
    """One sentence a (model, target): what each server carries and what binds, computed from the table."""
    out = ["## What the table says", ""]
    for (model, tpot), d in df.groupby(["model", "tpot_slo_s"], sort=False):
        parts = []
        for network, n in d.groupby("network", sort=False):
            s, c = (n[n["server"] == k].iloc[0] for k in ("split", "cloud-only"))
            cloud = (f"cloud-only {c['requests_per_s_per_gpu']:,.2f} ({gpus(c)} a replica, "
                     f"{binds(c)}, {c['usd_per_million_output_tokens']:,.3f} USD/M output tokens, "
                     f"{c['usd_per_million_tokens']:,.3f} USD/M tokens)")
            if s["max_rate_per_s"] > 0:
                split = (f"split {s['requests_per_s_per_gpu']:,.2f} requests/s a GPU ({gpus(s)} a "
                         f"replica, {binds(s)}, {s['usd_per_million_output_tokens']:,.2f} USD/M "
                         f"output tokens, {s['usd_per_million_tokens']:,.2f} USD/M tokens), "
                         f"{c['requests_per_s_per_gpu'] / s['requests_per_s_per_gpu']:,.1f}x less than ")
            else:
                split = f"split nothing within the target ({binds(s)}), against "
            parts.append(f"{network}: {split}{cloud}")
        out.append(f"- {model} at {tpot * 1e3:g} ms a token: " + "; ".join(parts) + ".")
    return out
