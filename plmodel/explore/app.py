"""The explorer's page (Streamlit; `plmodel explore` serves it): the scenario's controls in the sidebar, generated
for the designs from the registry (`plmodel.designs.DESIGNS` and their `Param`s), and what views.py computes for
it. Bad input shows the CLI's one-line message where the figures would be. Streamlit runs this file as a script."""

from __future__ import annotations

import tempfile
from pathlib import Path

from plmodel import designs
from plmodel.designs.exposure import WHAT
from plmodel.errors import PlmodelError
from plmodel.explore import charts, views
from plmodel.explore.scenario import (
    Choices,
    FleetTargets,
    PlanTargets,
    capacity_command,
    estimate_command,
    hardware_names,
    models,
    network_names,
    plan_command,
    sweep_command,
    sweep_yaml,
)
from plmodel.hardware.runtimes import RUNTIMES
from plmodel.io.profiles import profile_dirs
from plmodel.specs import LIMITS, PROJECTIONS

PROFILE_RUNTIME = "the profile's"


def pick(st, label: str, options: list, default, key: str):
    """A selectbox of `options` starting at `default`."""
    return st.selectbox(label, options, index=options.index(default) if default in options else 0, key=key)


def design_widget(st, p):
    """The control of one design parameter, by its kind (design.Param); its value as the CLI option takes it."""
    key, label = f"design_{p.name}", f"{p.option} ({p.unit})" if p.unit and p.unit != "flag" else p.option
    if p.unit == "flag":
        return int(st.checkbox(p.option, value=bool(p.default), key=key, help=p.help))
    if p.kind in ("int", "float"):
        cast = int if p.kind == "int" else float
        return cast(st.number_input(label, value=cast(p.default), step=cast(1) if p.kind == "int" else 0.05,
                                    key=key, help=p.help))
    if p.kind == "model":
        none = "(none)" if p.default is None else p.default
        v = pick(st, label, [none, *[m for m in models() if m != p.default]], none, key)
        return None if v == "(none)" else v
    if p.kind == "network":
        return pick(st, label, network_names(), p.default, key)
    shipped = sorted(str(f.relative_to(profile_dirs()["placements"].parent)) for f in
                     profile_dirs()["placements"].glob("*.yaml"))
    v = pick(st, label, ["(none)", *shipped], "(none)", key)
    return None if v == "(none)" else str(profile_dirs()["placements"].parent / v)


def design_controls(st) -> tuple:
    """((param name, value), ...) of every registered design's parameters set away from their defaults."""
    out = []
    for cls in designs.DESIGNS:
        with st.sidebar.expander(cls.title):
            st.caption(cls.summary)
            for p in cls.params:
                v = design_widget(st, p)
                if v != p.default:
                    out.append((p.name, v))
    return tuple(out)


def uploaded(s, what: str):
    """The path of a profile YAML the person uploaded for `what` (saved under this session's folder), or None:
    a shipped profile is picked instead. A bad file gets the CLI's one line where the figures would be."""
    f = s.file_uploader(f"or upload a {what} profile (YAML)", type=["yaml", "yml"], key=f"{what}_upload")
    if f is None:
        return None
    folder = Path(tempfile.gettempdir()) / "plmodel-explore" / what
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(f.name).name
    path.write_bytes(f.getvalue())
    return str(path)


def controls(st) -> Choices:
    """The scenario the sidebar's controls hold."""
    s, d = st.sidebar, Choices()
    s.header("Scenario")
    model = pick(s, "model", models(), d.model, "model")
    rank = s.number_input("rank (r_c2d = r_d2c)", 1, LIMITS["width"], d.rank, key="rank")
    targets = s.multiselect("adapted projections (none: a plain split)", PROJECTIONS, ["q", "k", "v"], key="targets")
    layers = s.text_input("adapted layers (all, or e.g. 0-15,20)", d.layers, key="layers")
    hw = hardware_names()
    cloud = uploaded(s, "cloud") or pick(s, "cloud", hw, d.cloud, "cloud")
    device = uploaded(s, "device") or pick(s, "device", hw, d.device, "device")
    network = uploaded(s, "network") or pick(s, "network", network_names(), d.network, "network")
    rtt = s.number_input("RTT ms (empty: the network's)", value=None, min_value=0.0, step=1.0, key="rtt_ms")
    runtimes = [PROFILE_RUNTIME, *RUNTIMES]
    cloud_rt, device_rt = (pick(s, f"{w} runtime", runtimes, PROFILE_RUNTIME, f"{w}_runtime") for w in ("cloud", "device"))
    mode = s.radio("accounting", ("realistic", "paper"), horizontal=True, key="mode")
    with s.expander("adapter, precision and workload"):
        more = {k: st.number_input(label, 0, LIMITS["width"] if "rank" in k else 10**6, getattr(d, k) or 0, key=k)
                for k, label in (("rank_c2d", "r_c2d (0: the rank)"), ("rank_d2c", "r_d2c (0: the rank)"),
                                 ("act_bits", "bits an activation"), ("cloud_bits", "bits a cloud weight"),
                                 ("device_bits", "bits a device weight"), ("batch", "batch"),
                                 ("prompt_tokens", "prompt tokens"), ("output_tokens", "tokens an answer"),
                                 ("users", "users in flight for the cost (0: a replica's memory full)"))}
    more.update(rank_c2d=more["rank_c2d"] or None, rank_d2c=more["rank_d2c"] or None, users=more["users"] or None)
    s.header("Designs")
    return Choices(model=model, rank=int(rank), targets=",".join(targets) or "none", layers=layers, cloud=cloud,
                   device=device, network=network, rtt_ms=rtt, mode=mode, design_values=design_controls(st),
                   cloud_runtime=None if cloud_rt == PROFILE_RUNTIME else cloud_rt,
                   device_runtime=None if device_rt == PROFILE_RUNTIME else device_rt, **more)


def shown_error(st, exc: Exception) -> None:
    """The CLI's one line for bad input; one line too for anything else (never a traceback)."""
    if isinstance(exc, PlmodelError):
        st.error(f"ERROR: {exc}")
    else:
        st.error(f"ERROR: unexpected {type(exc).__name__}: {exc} (a bug: please report it with the command line)")


def command_block(st, line: str, name: str, csv: bytes, key: str) -> None:
    """The command line that gives the same figures, and the downloads of it and of the numbers."""
    st.code(line, language="bash")
    a, b = st.columns(2)
    a.download_button("command line", line + "\n", f"{name}.sh", "text/x-shellscript", key=f"{key}_sh")
    b.download_button("numbers (CSV)", csv, f"{name}.csv", "text/csv", key=f"{key}_csv")


def headline(st, cache, c: Choices):
    """The headline figures and the estimate's command line; the flat record, or None on bad input."""
    try:
        flat = cache["estimate"](c)
    except Exception as exc:  # noqa: BLE001 (one line on the page, never a traceback)
        shown_error(st, exc)
        return None
    with st.container(key="headline"):
        figures = views.headline(flat)
        for row in (figures[:4], figures[4:]):
            for col, (label, text, unit) in zip(st.columns(4), row, strict=False):
                col.metric(f"{label} ({unit})", text)
    st.caption(f"the cloud can recover: {', '.join(flat.get('cloud_can_recover') or []) or 'nothing'}; "
               f"{flat['round_trips_per_step']} round trips a step; break-even RTT against device-only: "
               f"{views.shown(flat.get('break_even_rtt_s'), 1e3, '{:,.2f}')} ms")
    csv = "key,value\n" + "".join(f"{k},{str(v).replace(',', ';')}\n" for k, v in flat.items())
    command_block(st, estimate_command(c), "estimate", csv.encode(), "estimate")
    try:
        st.download_button("scenario (YAML)", sweep_yaml(c), "scenario.yaml", "application/yaml", key="scenario_yaml")
        st.caption(f"the scenario file runs with: {sweep_command('scenario.yaml')}")
    except PlmodelError as exc:
        st.caption(f"no scenario file: {exc}")
    return flat


def step_tab(st, flat: dict) -> None:
    step = views.step_breakdown(flat)
    image = charts.step_bar(step, f"{flat['model']}: a decode step, {flat['decode_step_s'] * 1e3:,.1f} ms")
    st.image(image)
    st.dataframe(step, hide_index=True)
    st.download_button("figure (PNG)", image, "step.png", "image/png", key="step_png")


def rtt_tab(st, cache, c: Choices) -> None:
    curves = cache["curves"](c)
    left, right = st.columns(2)
    figures = [(left, "tokens_per_s", "rtt_tokens.png"), (right, "j_per_token", "rtt_energy.png")]
    for col, kind, name in figures:
        image = charts.rtt_chart(curves, kind)
        col.image(image)
        col.download_button("figure (PNG)", image, name, "image/png", key=name)
    st.download_button("curves (CSV)", curves.table.to_csv(index=False), "rtt.csv", "text/csv", key="rtt_csv")


def plan_tab(st, cache, c: Choices) -> None:
    a, b, m, p = st.columns(4)
    t = PlanTargets(a.number_input("most ms a token", 1.0, 1e9, 200.0, key="plan_tpot_ms"),
                    b.number_input("most TTFT ms (0: any)", 0.0, 1e9, 0.0, key="plan_ttft_ms") or None,
                    m.number_input("most device MB (0: any)", 0.0, 1e9, 0.0, key="plan_memory_mb") or None,
                    tuple(p.multiselect("the cloud must not recover", WHAT, key="plan_privacy")))
    table, best = cache["plan"](c, t)
    st.image(charts.plan_chart(table, best))
    st.markdown(f"**recommendation:** {best or 'none of these designs meets the targets'}")
    st.dataframe(table.drop(columns=[k for k in ("privacy_reason", "cloud_can_recover_tokens") if k in table]),
                 hide_index=True)
    command_block(st, plan_command(c, t), "plan", table.to_csv(index=False).encode(), "plan")


def fleet_tab(st, cache, c: Choices) -> None:
    a, b = st.columns(2)
    t = FleetTargets(a.number_input("SLO: ms a token (p90)", 1.0, 1e9, 200.0, key="fleet_tpot_ms"),
                     b.number_input("SLO: TTFT ms (p90)", 1.0, 1e9, 5000.0, key="fleet_ttft_ms"))
    table = cache["capacity"](c, t)
    st.dataframe(table, hide_index=True)
    st.image(charts.capacity_chart(cache["capacity_curve"](c, t), t.tpot_ms))
    command_block(st, capacity_command(c, t), "capacity", table.to_csv(index=False).encode(), "capacity")


def guarded(st, view, *args) -> None:
    try:
        view(st, *args)
    except Exception as exc:  # noqa: BLE001 (one line on the page, never a traceback)
        shown_error(st, exc)


def main() -> None:
    import streamlit as st

    st.set_page_config(page_title="plmodel explore", layout="wide")
    cache = {name: st.cache_data(show_spinner=False, max_entries=128)(f) for name, f in (
        ("estimate", views.flat_estimate), ("curves", views.rtt_curves), ("plan", views.plan_table),
        ("capacity", views.capacity), ("capacity_curve", views.capacity_curve))}
    c = controls(st)
    st.title("plmodel explore")
    flat = headline(st, cache, c)
    if flat is None:
        return
    step, rtt, plan, fleet = st.tabs(["Decode step", "RTT", "Plan", "Fleet"])
    with step:
        guarded(st, step_tab, flat)
    with rtt:
        guarded(st, rtt_tab, cache, c)
    with plan:
        guarded(st, plan_tab, cache, c)
    with fleet:
        guarded(st, fleet_tab, cache, c)


if __name__ == "__main__":
    main()
