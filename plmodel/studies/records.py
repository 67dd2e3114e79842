"""Run sweep tasks into tidy records: one flat dict a (task, phase), SI units in unit-suffixed keys.

Tasks run on local processes when asked; the pool's ordered map keeps their order, so a parallel run
gives exactly the records of a serial one. Workers die with the sweep, whatever stops it.
"""

from __future__ import annotations

import os
import sys

from plmodel import designs
from plmodel.analysis.estimate import estimate
from plmodel.analysis.result import as_float
from plmodel.layer_sets import layer_text
from plmodel.sim import simulate
from plmodel.studies.backends import ordered_map
from plmodel.studies.fleet_sweep import fleet_records
from plmodel.version import __version__

BASELINE_KEYS = ("device_memory_bytes", "device_matmul_weight_bytes", "device_flop_per_token",
                 "device_only_flop_per_token", "device_only_3bit_memory_bytes", "device_only_4bit_memory_bytes",
                 "device_only_3bit_fits", "device_only_4bit_fits", "c2d_bytes_per_token", "d2c_bytes_per_token",
                 "traffic_saving", "break_even_rtt_s", "cloud_speed_source", "round_trips_per_step")
ENERGY_KEYS = ("device_energy_j_per_token", "device_only_energy_j_per_token", "cloud_only_device_energy_j_per_token",
               "energy_break_even_rtt_s", "tokens_per_battery_percent")
SIM_KEYS = ("tpot_p50_s", "tpot_p99_s", "aggregate_tokens_per_s", "cloud_utilization")


def phase_fields(e, phase: str) -> dict:
    """The fields of one phase of an estimate: split speed and time split, and each baseline's speed."""
    st = e.prefill if phase == "prefill" else e.decode
    lora = e.lora_prefill if phase == "prefill" else e.lora_decode
    out = {}
    for part in ("cloud", "device", "transfer", "latency"):
        out[f"{part}_s"] = as_float(getattr(st, f"{part}_s"))
    out["step_s"] = as_float(st.total_s)
    out["cloud_only_tokens_per_s"] = getattr(e.cloud_only, f"{phase}_tokens_per_s")
    out["split_lora_tokens_per_s"] = as_float(lora.tokens_per_s)
    for d in e.device_only:
        out[f"device_only_{d.bits}bit_tokens_per_s"] = getattr(d, f"{phase}_tokens_per_s")
    return out


def task_records(task) -> list:
    """Records of one task, one for each of its phases (the fleet engine: one a server, fleet_sweep.py)."""
    scn = task.scenario
    if task.engine == "fleet":
        return fleet_records(task, inputs_of(scn, task))
    e = estimate(scn, with_cost=False)  # the records carry no cost
    sim = None
    if task.engine == "simulation":
        load = task.load
        sim = simulate(scn, task.tokens, load.users, arrival=load.arrival, rate=load.rate_per_s, seed=task.seed).metrics
    return phase_records(scn, e, task, sim)


def inputs_of(scn, task) -> dict:
    """The input columns of a record (arrays for a vectorised scenario)."""
    return {"model": scn.model.name, "rank_c2d": scn.adapter.r_c2d, "rank_d2c": scn.adapter.r_d2c,
            "targets": task.targets, "layers": layer_text(scn.adapter.layers), "batch": scn.batch,
            "prompt_tokens": scn.prompt_tokens,
            "cloud": scn.cloud.name, "device": scn.device.name, "network": scn.link.name,
            "rtt_s": scn.link.rtt_s, "c2d_bandwidth_bps": scn.link.c2d_bps, "d2c_bandwidth_bps": scn.link.d2c_bps,
            "mode": scn.mode, "engine": task.engine, "act_bits": scn.adapter.act_bits,
            "cloud_bits": scn.adapter.cloud_weight_bits, "device_bits": scn.adapter.device_weight_bits,
            **designs.record_columns(scn)}


def phase_records(scn, e, task, sim=None) -> list:
    """The records of a scenario's estimate (and simulation), one a phase of `task`; the values are arrays
    for a vectorised scenario (sweep_vector.py)."""
    flat, out, inputs = e.flat(), [], inputs_of(scn, task)
    for phase in task.phases:
        rec = {}
        for k, v in inputs.items():  # the phase after the targets, as the records always had it
            rec[k] = v
            if k == "targets":
                rec["phase"] = phase
        closed = as_float((e.prefill if phase == "prefill" else e.decode).tokens_per_s)
        rec["tokens_per_s"] = sim[f"{phase}_tokens_per_s"] if sim else closed
        rec["analytical_tokens_per_s"] = closed
        rec["ttft_s"] = sim["ttft_s"] if sim else as_float(e.prefill.total_s)
        rec.update(phase_fields(e, phase))
        rec.update({k: flat[k] for k in BASELINE_KEYS})
        rec.update({k: flat.get(k) for k in ENERGY_KEYS})
        if sim:
            rec.update({k: sim[k] for k in SIM_KEYS})
            rec["users"], rec["tokens"], rec["seed"] = task.users, task.tokens, task.seed
            if task.load.arrival != "closed":
                rec["arrival"], rec["rate_per_s"] = task.load.arrival, task.load.rate_per_s
        out.append(rec)
    return out


def default_jobs(engine: str) -> int:
    """Processes to use: the closed form is faster than starting a pool; the simulation is not."""
    return 1 if engine == "analytical" else (os.cpu_count() or 1)  # simulation, fleet


def run_tasks(tasks, jobs: int = 1, progress: bool | None = None, cache=None, backend: str = "process",
              address: str | None = None) -> list:
    """All records of `tasks`, in task order, on `jobs` processes (or `backend`: serial, process, ray at
    `address`; backends.py), with a progress bar on stderr; with a `cache` (records.Cache) a point already
    computed by this version is read, not recomputed, and each new one is stored as soon as it is done
    (an interrupted study keeps what it finished)."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(tasks), desc="points", unit="pt", disable=not show, file=sys.stderr, leave=False)
    known = {i: cache.get(t) for i, t in enumerate(tasks)} if cache is not None else {}
    todo = [t for i, t in enumerate(tasks) if known.get(i) is None]
    bar.update(len(tasks) - len(todo))
    fresh, results = [], ordered_map(task_records, todo, backend, jobs, address)
    try:
        for task, recs in zip(todo, results):
            if cache is not None:
                cache.put(task, recs)
            fresh.append(recs)
            bar.update()
    finally:  # stops the workers however the loop ends (done, an error, a signal)
        results.close()
        bar.close()
    it = iter(fresh)
    return [r for i in range(len(tasks)) for r in (known[i] if known.get(i) is not None else next(it))]


class Cache:
    """Records of sweep points on disk, one JSON file a point, keyed by a hash of the point's inputs
    (its task: scenario, phases, engine, tokens, users, seed) and plmodel's version."""

    def __init__(self, folder):
        from pathlib import Path

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, task):
        import hashlib

        return self.folder / f"{hashlib.sha256(f'{__version__} {task!r}'.encode()).hexdigest()[:32]}.json"

    def get(self, task):
        import json

        try:
            return json.loads(self.path(task).read_text())
        except (OSError, ValueError):
            return None

    def put(self, task, records: list) -> None:
        import json

        p = self.path(task)
        tmp = p.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(records))
        tmp.replace(p)
