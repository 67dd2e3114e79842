"""Run a YAML sweep: a grid of configurations -> results (Parquet, and CSV up to 100,000 points), figures,
REPORT.md and a copy of the config. The analytical engine evaluates the grid vectorised (sweep_vector.py);
the simulation engine, and --cache, go point by point.

Axes (lists; a scalar means one value): models, ranks or rank_pairs, phases, batch_sizes, prompt_tokens,
cloud, device, network, rtt_ms, targets, layers, cloud_runtime, mode, the designs (act_bits, cloud_bits,
device_bits, device_layers_first, device_layers_last, servers, prefill_chunks, draft_model, draft_tokens,
acceptance) and the load (users, arrival, rate, tpot_ms, ttft_ms, policy); settings: engine (analytical,
simulation or fleet), tokens, requests, seed, name; `grids:` lists axis mappings merged over the top
level. Shipped configs are in sweeps/ (fleet.yaml there is a `plmodel capacity --study`). The output
folder is written atomically: nothing appears at --out until everything is done, and Ctrl-C leaves
nothing there.
"""

from __future__ import annotations

from pathlib import Path

from plmodel.errors import PlmodelError
from plmodel.studies import budget


def cache_of(folder):
    """The records.Cache at --cache, or None; a one-line error where it cannot be a folder."""
    if folder is None:
        return None
    from plmodel.studies.records import Cache

    if Path(folder).exists() and not Path(folder).is_dir():
        raise PlmodelError(f"--cache: {folder} is a file, expected a folder")
    try:
        return Cache(folder)
    except OSError as exc:
        raise PlmodelError(f"--cache: cannot make the folder {folder} ({exc.__class__.__name__})") from None


def register_arguments(p) -> None:
    p.add_argument("config", nargs="?", help="sweep YAML file (see sweeps/)")
    p.add_argument("--example", metavar="NAME", help="a shipped sweep instead of a file (works after a plain wheel "
                   "install): " + ", ".join(shipped_sweeps()))
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; must not be an existing file)")
    p.add_argument("--jobs", type=int, metavar="N", help="processes (default: 1 for the analytical engine, all cores "
                   "for simulation)")
    p.add_argument("--engine", choices=("analytical", "simulation", "fleet"), help="override the config's engine")
    add_backend_arguments(p, "simulation points (the analytical engine runs vectorised, in this process)")
    p.add_argument("--cache", metavar="DIR", help="keep each point's records here (keyed by its inputs and plmodel's "
                   "version): an interrupted or extended study computes only what is new (point by point)")
    p.add_argument("--force", action="store_true", help="replace --out if it is an existing folder")
    p.add_argument("--html", action="store_true", help="also write REPORT.html: one self-contained page to share, "
                   "its figures showing each point's values on hover (nothing fetched)")
    p.add_argument("--yes", action="store_true", help="run even if the estimate of time or memory is past its bound")
    p.add_argument("--progress", action=argparse_bool(), default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")


def add_backend_arguments(p, what: str) -> None:
    """--backend and --address: where independent pieces of work run (plmodel.studies.backends)."""
    from plmodel.studies.backends import BACKENDS

    p.add_argument("--backend", choices=BACKENDS, default="process", metavar="NAME", help=f"where {what} run: "
                   "serial, process (--jobs cores), ray")
    p.add_argument("--address", metavar="URL", help="--backend ray: the cluster (default: "
                   "a local Ray)")


def argparse_bool():
    import argparse

    return argparse.BooleanOptionalAction


def shipped_sweeps() -> list:
    """The shipped sweep configs by name (not the capacity studies beside them, whose keys differ)."""
    from plmodel.io.profiles import profile_dirs
    from plmodel.studies.sweep import SCHEMA

    def is_sweep(path) -> bool:
        import yaml

        data = yaml.safe_load(path.read_text())
        return isinstance(data, dict) and set(data) <= set(SCHEMA)

    return sorted(p.stem for p in profile_dirs()["sweeps"].glob("*.yaml") if is_sweep(p))


def config_path(args) -> str:
    """The sweep file: the positional path, or a shipped example by name (exactly one of them)."""
    from plmodel.io.profiles import profile_dirs

    if (args.config is None) == (args.example is None):
        raise PlmodelError("give a sweep YAML file or --example NAME (one of them)")
    if args.example is None:
        return args.config
    if args.example not in shipped_sweeps():
        raise PlmodelError(f"--example: unknown sweep {args.example!r}; expected one of {', '.join(shipped_sweeps())}")
    return str(profile_dirs()["sweeps"] / f"{args.example}.yaml")


def run(args) -> int:
    from plmodel.studies.records import default_jobs, run_tasks
    from plmodel.studies.report import FigureWorker, check_out, write_study
    from plmodel.studies.sweep import load_sweep

    out, config = Path(args.out), config_path(args)
    check_out(out, args.force)
    cfg = load_sweep(config, engine=args.engine)
    jobs = default_jobs(cfg.engine) if args.jobs is None else args.jobs
    if jobs < 1:
        raise PlmodelError(f"--jobs: expected an integer >= 1, got {jobs}")
    vectorised = cfg.engine == "analytical" and args.cache is None
    if vectorised:
        seconds, nbytes = budget.vector_sweep_cost(cfg.n_points)
    else:
        seconds, nbytes = budget.sweep_cost(cfg.tasks, jobs)
    budget.check(seconds, nbytes, f"sweep of {cfg.n_points:,} points on {jobs} processes", config, args.yes)
    with FigureWorker() as figures:  # imports matplotlib meanwhile; an interruption leaves --out untouched
        from plmodel.studies.tables import to_frame

        if vectorised:
            df = vector_frame(cfg, args.progress)
        else:
            df = to_frame(run_tasks(cfg.tasks, jobs, args.progress, cache_of(args.cache), args.backend, args.address))
        names = write_study(out, config, df, cfg, args.force, figures, html=args.html)
    print(f"{len(df)} points ({cfg.n_points} configurations, engine {cfg.engine}"
          f"{', vectorised' if vectorised else ''}) -> {out}/: {', '.join(names)}")
    return 0


def vector_frame(cfg, progress):
    """The records of an analytical sweep on the vectorised path, with a progress bar on stderr."""
    import sys

    from tqdm import tqdm

    from plmodel.studies.sweep_vector import sweep_frame

    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=cfg.n_points, desc="points", unit="pt", disable=not show, file=sys.stderr, leave=False) as bar:
        return sweep_frame(cfg, bar.update)
