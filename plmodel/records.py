"""Run sweep tasks into tidy records: one flat dict a (task, phase), SI units in unit-suffixed keys.

Tasks run on local processes when asked; the pool's ordered map keeps their order, so a parallel run
gives exactly the records of a serial one. Workers die with the sweep, whatever stops it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys

from .estimate import estimate
from .interrupt import die_with_parent

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
        out[f"{part}_s"] = float(getattr(st, f"{part}_s"))
    out["step_s"] = float(st.total_s)
    out["cloud_only_tokens_per_s"] = getattr(e.cloud_only, f"{phase}_tokens_per_s")
    out["split_lora_tokens_per_s"] = float(lora.tokens_per_s)
    for d in e.device_only:
        out[f"device_only_{d.bits}bit_tokens_per_s"] = getattr(d, f"{phase}_tokens_per_s")
    return out


def task_records(task) -> list:
    """Records of one task, one for each of its phases."""
    scn = task.scenario
    e = estimate(scn)
    flat = e.flat()
    sim = None
    if task.engine == "simulation":
        from .sim import simulate

        sim = simulate(scn, task.tokens, task.users, seed=task.seed).metrics
    out = []
    for phase in task.phases:
        rec = {"model": scn.model.name, "rank_c2d": scn.adapter.r_c2d, "rank_d2c": scn.adapter.r_d2c,
               "targets": task.targets, "phase": phase, "batch": scn.batch, "prompt_tokens": scn.prompt_tokens,
               "cloud": scn.cloud.name, "device": scn.device.name, "network": scn.link.name,
               "rtt_s": scn.link.rtt_s, "c2d_bandwidth_bps": scn.link.c2d_bps, "d2c_bandwidth_bps": scn.link.d2c_bps,
               "mode": scn.mode, "engine": task.engine}
        closed = float((e.prefill if phase == "prefill" else e.decode).tokens_per_s)
        rec["tokens_per_s"] = sim[f"{phase}_tokens_per_s"] if sim else closed
        rec["analytical_tokens_per_s"] = closed
        rec["ttft_s"] = sim["ttft_s"] if sim else float(e.prefill.total_s)
        rec.update(phase_fields(e, phase))
        rec.update({k: flat[k] for k in BASELINE_KEYS})
        rec.update({k: flat.get(k) for k in ENERGY_KEYS})
        if sim:
            rec.update({k: sim[k] for k in SIM_KEYS})
            rec["users"], rec["tokens"], rec["seed"] = task.users, task.tokens, task.seed
        out.append(rec)
    return out


def default_jobs(engine: str) -> int:
    """Processes to use: the closed form is faster than starting a pool; the simulation is not."""
    return 1 if engine == "analytical" else (os.cpu_count() or 1)


def run_tasks(tasks, jobs: int = 1, progress: bool | None = None) -> list:
    """All records of `tasks`, in task order, on `jobs` processes, with a progress bar on stderr."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(tasks), desc="points", unit="pt", disable=not show, file=sys.stderr, leave=False)
    records = []
    try:
        if jobs <= 1 or len(tasks) < 2:
            results = map(task_records, tasks)
            for recs in results:
                records.extend(recs)
                bar.update()
        else:  # workers die with this process; leaving the block (done, error, signal) terminates them
            with mp.Pool(jobs, initializer=die_with_parent) as pool:
                chunk = max(1, len(tasks) // (jobs * 8))
                for recs in pool.imap(task_records, tasks, chunksize=chunk):
                    records.extend(recs)
                    bar.update()
    finally:
        bar.close()
    return records
