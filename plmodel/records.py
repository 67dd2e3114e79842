"""Run sweep tasks into tidy records: one flat dict a (task, phase), SI units in unit-suffixed keys.

Tasks run on local processes when asked; `concurrent.futures` map keeps their order, so a parallel
run gives exactly the records of a serial one.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor

from .estimate import estimate

BASELINE_KEYS = ("device_memory_bytes", "device_matmul_weight_bytes", "device_flop_per_token",
                 "device_only_flop_per_token", "device_only_3bit_memory_bytes", "device_only_4bit_memory_bytes",
                 "device_only_3bit_fits", "device_only_4bit_fits", "c2d_bytes_per_token", "d2c_bytes_per_token",
                 "traffic_saving", "break_even_rtt_s", "cloud_speed_source", "round_trips_per_step")


def task_records(task) -> list:
    """Records of one task, one for each of its phases."""
    scn = task.scenario
    e = estimate(scn)
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
               "mode": scn.mode, "engine": task.engine,
               "tokens_per_s": sim[f"{phase}_tokens_per_s"] if sim else e[f"{phase}_tokens_per_s"],
               "analytical_tokens_per_s": e[f"{phase}_tokens_per_s"], "ttft_s": sim["ttft_s"] if sim else e["ttft_s"]}
        for part in ("cloud", "device", "transfer", "latency", "step"):
            rec[f"{part}_s"] = e[f"{phase}_{part}_s"]
        rec["cloud_only_tokens_per_s"] = e[f"cloud_only_{phase}_tokens_per_s"]
        rec["split_lora_tokens_per_s"] = e[f"split_lora_{phase}_tokens_per_s"]
        for bits in (3, 4):
            rec[f"device_only_{bits}bit_tokens_per_s"] = e[f"device_only_{bits}bit_{phase}_tokens_per_s"]
        rec.update({k: e[k] for k in BASELINE_KEYS})
        if sim:
            rec.update({k: sim[k] for k in ("tpot_p50_s", "tpot_p99_s", "aggregate_tokens_per_s", "cloud_utilization")})
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
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                chunk = max(1, len(tasks) // (jobs * 8))
                for recs in pool.map(task_records, tasks, chunksize=chunk):
                    records.extend(recs)
                    bar.update()
    finally:
        bar.close()
    return records
