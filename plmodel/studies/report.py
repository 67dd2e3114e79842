"""A study folder written atomically: results.csv, the figures it can draw, REPORT.md and the config.

Everything is written into a temporary folder beside --out and moved into place at the end, so an
error or Ctrl-C leaves nothing half-written at --out.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from plmodel import paperdata
from plmodel.errors import PlmodelError
from plmodel.interrupt import die_with_parent
from plmodel.studies import plots, report_html, uncertainty_report
from plmodel.studies.claims import claims_markdown
from plmodel.studies.fleet_sweep import is_fleet, report_lines
from plmodel.studies.provenance import provenance
from plmodel.studies.tables import markdown, paper_comparison


def check_out(out: Path, force: bool) -> None:
    """--out must be a new folder name, or an existing folder with --force."""
    if out.exists() and not out.is_dir():
        raise PlmodelError(f"--out: {out} is an existing file, expected a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise PlmodelError(f"--out: {out} exists and is not empty; pass --force to replace it")
    if not out.parent.resolve().is_dir():
        raise PlmodelError(f"--out: folder {out.parent} does not exist")


def figure_jobs(df) -> list:
    """[(file stem, plots function name, keyword arguments)] of every figure this table supports."""

    if is_fleet(df):
        return [("load", "fleet_load", {})]
    jobs = []
    for model in df["model"].unique():
        d = df[df["model"] == model]
        if set(d["phase"]) == {"prefill", "decode"} and d["batch"].nunique() * d["prompt_tokens"].nunique() > 1:
            overlay = paperdata.figure_7b() if model == "llama-2-7b" and (d["mode"] == "paper").all() else None
            jobs.append((f"throughput_{model}", "throughput", {"model": model, "paper_points": overlay}))
    if (df["phase"] == "decode").any():
        jobs.append(("device_cost", "device_cost", {}))
    if df.groupby("network")["rtt_s"].nunique().max() > 2:  # RTT varies on a network
        jobs.append(("rtt", "rtt_sensitivity", {}))
    both = set(df["phase"]) == {"prefill", "decode"}
    for column in ("network", "device"):  # a figure a model where the networks (or devices) vary
        if df[column].nunique() > 1 and both:
            jobs += [(f"{column}s_{m}" if df["model"].nunique() > 1 else f"{column}s", "networks",
                      {"df_model": m, "column": column}) for m in df["model"].unique()]
        if "device_energy_j_per_token" in df and df["device_energy_j_per_token"].notna().any() \
                and df[column].nunique() > 1 and (df["mode"] == "realistic").any():
            jobs += [(f"energy_{m}" if column == "network" else f"energy_by_device_{m}", "energy_per_token",
                      {"model": m, "column": column}) for m in df["model"].unique()]
    return jobs


def render_figure(job) -> tuple:
    """Draw one figure and save it as PNG and SVG (vector, for papers); (its name, and with `html` its SVG with
    hover labels for REPORT.html, else None). A pure function of its job, so it can run in a worker."""
    folder, df, (name, function, kwargs), html = job
    kwargs = dict(kwargs)
    model = kwargs.pop("df_model", None)  # a figure of one model's rows
    if model is not None:
        df = df[df["model"] == model]
    fig = getattr(plots, function)(df, **kwargs)
    plots.save(fig, Path(folder) / name, dpi=90)
    return name, (report_html.interactive_svg(fig) if html else None)


def _import_plots() -> None:
    die_with_parent()
    import matplotlib

    matplotlib.use("Agg")


#: Rows beyond which the figures are drawn in this process (sending the table to the worker would cost more).
LOCAL_ROWS = 20_000


class FigureWorker:
    """A helper process that imports matplotlib while the records are computed, then draws the
    figures: the two slowest fixed costs of a sweep run side by side instead of one after the other.
    Without fork (or with one core) the figures are drawn in this process."""

    def __enter__(self):
        self.pool = None
        if "fork" in mp.get_all_start_methods() and (os.cpu_count() or 1) > 1:
            self.pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"), initializer=_import_plots)
            self.pool.submit(int)  # start the worker now
        return self

    def render(self, folder: Path, df, jobs: list, html: bool = False) -> list:
        """[(figure name, its hover SVG or None)] of the jobs, drawn into `folder`."""
        work = [(str(folder), df, job, html) for job in jobs]
        if self.pool is None or len(df) > LOCAL_ROWS:  # a large table costs more to send than to draw here
            _import_plots()
            return [render_figure(w) for w in work]
        return list(self.pool.map(render_figure, work))

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def report_markdown(df, cfg, figure_names) -> str:
    """REPORT.md: what ran, the figures, a summary and, for the paper's 7B figure, the comparison."""
    lines = [f"# {cfg.name}", "", f"Generated by `plmodel sweep {Path(cfg.source).name}`: {len(df)} points, "
             f"engine {cfg.engine}, mode {', '.join(sorted(df['mode'].unique()))}; models "
             f"{', '.join(df['model'].unique())}; networks {', '.join(df['network'].unique())}. "
             f"Every row of `results.parquet`{' (and `results.csv`)' if len(df) <= CSV_MAX_ROWS else ''} is one point; "
             "columns carry their units (`_s`, `_bytes`, `_bps`). "
             "`PROVENANCE.json` holds plmodel's version and the hash of the config and of every profile used.", ""]
    for name in figure_names:
        lines += [f"![{name}]({name}.png)", ""]

    if is_fleet(df):
        return "\n".join(lines + report_lines(df))
    dec = df[df["phase"] == "decode"]
    if len(dec):
        summary = dec.groupby(["model", "network", "rank_c2d"], as_index=False).agg(
            decode_tokens_per_s_max=("tokens_per_s", "max"), device_only_4bit=("device_only_4bit_tokens_per_s", "first"),
            cloud_only=("cloud_only_tokens_per_s", "first"), break_even_rtt_ms=("break_even_rtt_s", "first"))
        summary["break_even_rtt_ms"] *= 1e3
        lines += ["## Decode, best point per model, network and rank", "", markdown(summary), ""]
    comp = paper_comparison(df[df["mode"] == "paper"], paperdata.figure_7b()) if (df["mode"] == "paper").any() else []
    if len(comp):
        lines += ["## Against the paper's 7B figure", "", *paper_summary(df, comp), ""]
    lines += claims_markdown(df)
    lines += ["## Where this departs from the paper", "",
              "Paper mode follows the paper's accounting: no latency, the decode counting only the slower link "
              "direction. The realistic mode and the simulation wait for every round trip; see README.md.", ""]
    return "\n".join(lines)


def paper_summary(df, comp) -> list:
    """Sentences comparing the study with the paper, computed from the results (never canned)."""
    err = comp["relative_error"]
    ok = err.abs().max() < paperdata.FIGURE_POINT_TOLERANCE and abs(err.median()) < paperdata.FIGURE_MEDIAN_TOLERANCE
    text = [f"{len(comp)} points compared: max |error| {100 * err.abs().max():.2f} %, median error "
            f"{100 * err.median():+.2f} % (acceptance: {100 * paperdata.FIGURE_POINT_TOLERANCE:g} % each, "
            f"{100 * paperdata.FIGURE_MEDIAN_TOLERANCE:g} % median): {'met' if ok else 'NOT met'}."]
    for phase in ("prefill", "decode"):
        e = comp[comp["phase"] == phase]["relative_error"]
        if len(e):
            text.append(f"{phase.capitalize()}: {len(e)} points, median {100 * e.median():+.2f} %, "
                        f"range {100 * e.min():+.2f} % to {100 * e.max():+.2f} %.")
    dec = df[(df["mode"] == "paper") & (df["phase"] == "decode") & (df["batch"] == 1) & (df["rank_c2d"] == 64)
             & (df["rank_d2c"] == 64)]
    for model, printed in paperdata.TEXT_DECODE_R64.items():
        ours = dec[dec["model"] == model]["tokens_per_s"]
        if len(ours):
            text.append(f"{model} at rank 64, batch 1: {ours.iloc[0]:.2f} tok/s against the paper's text "
                        f"{printed:g} ({100 * (ours.iloc[0] / printed - 1):+.1f} %).")
    return [" ".join(text)]


@contextlib.contextmanager
def atomic_folder(out, force: bool = False):
    """Yield a temporary folder beside `out`; on success it replaces `out`, on any error (or Ctrl-C) it
    is removed and `out` is left as it was."""
    out = Path(out)
    check_out(out, force)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent.resolve()))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent.resolve()))
            out.rename(old / out.name)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


#: Rows up to which a study also writes results.csv beside results.parquet (a larger one: Parquet only).
CSV_MAX_ROWS = 100_000


def write_study(out, config_path, df, cfg, force: bool = False, figures: FigureWorker | None = None, *,
                html: bool = False) -> list:
    """Write the study folder atomically (with `html`, REPORT.html beside REPORT.md); returns the names of the
    files written."""
    with atomic_folder(out, force) as tmp:
        df.to_parquet(tmp / "results.parquet", index=False)
        if len(df) <= CSV_MAX_ROWS:
            df.to_csv(tmp / "results.csv", index=False)
        if figures is None:
            with FigureWorker() as worker:
                drawn = worker.render(tmp, df, figure_jobs(df), html)
        else:
            drawn = figures.render(tmp, df, figure_jobs(df), html)
        text = "\n".join([report_markdown(df, cfg, [name for name, _ in drawn]), *uncertainty_report.section(tmp, cfg)])
        (tmp / "REPORT.md").write_text(text)
        if html:
            extra = {p.stem: p.read_text() for p in [tmp / "tornado.svg"] if p.exists()}  # the uncertainty section's
            (tmp / "REPORT.html").write_text(report_html.page(text, {**dict(drawn), **extra}, cfg.name))
        (tmp / "PROVENANCE.json").write_text(json.dumps(provenance(config_path, cfg.profiles()), indent=1) + "\n")
        shutil.copyfile(config_path, tmp / Path(config_path).name)
        names = sorted(p.name for p in tmp.iterdir())
    return names
