"""Closed-form estimate of one PrivateLoRA configuration, with cloud-only, device-only and split-LoRA baselines.

For the paper's prefill figure, "tokens in mini-batch" N is --batch 1 --prompt-tokens N; for its
decode figure, batch size B is --batch B.
"""

from __future__ import annotations

from plmodel.analysis.estimate import estimate
from plmodel.analysis.verdict import verdict
from plmodel.cli import scenario_args, uncertainty
from plmodel.cli.text import fit
from plmodel.errors import PlmodelError

MS, KB, MB, GFLOP = 1e3, 1e-3, 1e-6, 1e-9


def register_arguments(p) -> None:
    scenario_args.register(p)
    o = p.add_argument_group("output")
    o.add_argument("--output-tokens", type=int, default=128, metavar="N", help="generated tokens an answer, for "
                   "the energy and cost figures")
    o.add_argument("--users", type=float, metavar="N", help="users served at once (requests in flight, one sequence "
                   "each) for the cost figures (default: as many as one GPU replica's memory holds)")
    o.add_argument("--json", action="store_true", help="print one flat JSON object (SI units) instead of tables")
    uncertainty.add_arguments(o)


def run(args) -> int:
    if not 1 <= args.output_tokens <= 100_000:
        raise PlmodelError(f"--output-tokens: expected an integer from 1 to 100,000, got {args.output_tokens}")
    if args.users is not None and not 1 <= args.users <= 1e12:
        raise PlmodelError(f"--users: expected a number from 1 to 1e12, got {args.users}")
    uncertainty.check(args)
    scn = scenario_args.build_scenario(args)
    result = scenario_args.named(lambda s: estimate(s, args.output_tokens, args.users), scn)
    spread = scenario_args.named(lambda s: uncertainty.estimate_summary(s, args), scn) if args.uncertainty else None
    if args.json:
        import json  # only --json prints it: the tables need no json module

        print(json.dumps({**result.flat(), **(spread[0] if spread else {})}, indent=1))
    else:
        print(render(result) + ("\n\n" + "\n".join(fit(uncertainty.lines(*spread))) if spread else ""))
    return 0


def _row(label, *cells, width=34):
    """A table row: a table of many columns narrows its label and cells to stay within 100 characters."""
    cell = 14 if len(cells) <= 4 else 11
    width = width if len(cells) <= 4 else 30
    return f"  {label:<{width}}" + "".join(f"{c:>{cell}}" for c in cells)


def _fmt(x, digits=1):
    return f"{float(x):,.{digits}f}"


def header(e) -> list:
    i = e.inputs
    return [
        f"plmodel estimate - {i['model']}, " + (
            f"PrivateLoRA r_c2d={i['rank_c2d']} r_d2c={i['rank_d2c']} on {i['targets']} in {i['adapted_layers']} layers"
            if i['targets'] != "none" else "split with no adapters (the hidden state crosses at the stack's ends only)")
        + f", {i['act_bits']}-bit activations",
        f"  cloud {i['cloud']} ({e.cloud_runtime}, decoder speed {e.decode.cloud_source}; needs "
        f"{e.cloud_fit.required_bytes / 1e9:,.1f} GB, {e.cloud_fit.capacity_bytes / 1e9:,.1f} usable a GPU), device {i['device']} "
        f"({e.device_runtime}), network "
        f"{i['network']} (down {i['c2d_bandwidth_bps'] / 1e6:,.1f} Mbit/s, up {i['d2c_bandwidth_bps'] / 1e6:,.1f} "
        f"Mbit/s, RTT {i['rtt_s'] * MS:.1f} ms)",
        f"  mode {i['mode']}, batch {i['batch']}, prompt {i['prompt_tokens']} tokens", *cloud_warning(e),
        *([f"  warning: {e.device_runtime_note}"] if e.device_runtime_note else []),
        *([f"  a chain of {i['servers']} servers ({chain_of(i)}) over {i['server_network']}: the hidden state forwarded "
           f"{i['servers'] - 1} times a step"] if "servers" in i else []),
        *([f"  prefill pipelined in {i['prefill_chunks']} chunks: {e.prefill.overlap_s * MS:,.0f} ms of its parts overlap "
           "(closed form; where chunks contend for one resource across stages it is a lower bound: simulate)"]
          if "prefill_chunks" in i else []), ""]


def chain_of(i: dict) -> str:
    """The servers of a chain: each as the cloud above, or a placement's layers and hardware."""
    return "layers@hardware " + i["server_layers"].replace(";", ", ") if "placement" in i else "each as above"


def cloud_warning(e) -> list:
    f = e.cloud_fit
    if f.gpus > 1:
        return [f"  the cloud runs tensor parallel on {f.gpus} GPUs ({f.required_bytes / 1e9:,.1f} GB of weights, A, B and "
                f"KV against {f.capacity_bytes / 1e9:,.1f} GB usable on one), two all-reduces a layer"]
    return [] if f.fits else [f"  WARNING: no group of GPUs can hold the cloud's {f.required_bytes / 1e9:,.1f} GB; the paper's "
                              "accounting ignores memory and the figures below assume one GPU holds it"]


def throughput(e) -> list:
    rows = [_row("Throughput (source)", "prefill tok/s", "decode tok/s", "TTFT ms"),
            _row("split, PrivateLoRA", _fmt(e.prefill.tokens_per_s), _fmt(e.decode.tokens_per_s, 2),
                 _fmt(e.prefill.total_s * MS, 0)),
            _row("split, LoRA shipping hidden state", _fmt(e.lora_prefill.tokens_per_s),
                 _fmt(e.lora_decode.tokens_per_s, 2), ""),
            _row(f"cloud only ({e.cloud_only.source})", _fmt(e.cloud_only.prefill_tokens_per_s),
                 _fmt(e.cloud_only.decode_tokens_per_s, 2), _fmt(e.cloud_only.ttft_s * MS, 0))]
    for d in reversed(e.device_only):
        rows.append(_row(f"device only {d.bits}-bit ({d.decode_source})", _fmt(d.prefill_tokens_per_s),
                         _fmt(d.decode_tokens_per_s, 2), ""))
    for d in reversed(e.device_only_with_designs):  # the same draft, verified on the device
        rows.append(_row(f"device only {d.bits}-bit + the draft", _fmt(d.prefill_tokens_per_s),
                         _fmt(d.decode_tokens_per_s, 2), ""))
    return rows


def breakdown(e) -> list:
    d = e.decode
    rows = [_row("Decode step of one sequence", "ms", "share")]
    for value, label in ((d.cloud_s, "cloud compute"), (d.device_s, "device compute"), (d.transfer_s, "link transfer"),
                         (d.latency_s, f"link latency ({e.round_trips_per_step + 1} RTTs)")):
        rows.append(_row(label, _fmt(value * MS, 3), f"{100 * float(value / d.total_s):.1f}%"))
    per_pass = float(d.tokens) / e.inputs["batch"]
    if per_pass == 1:
        return rows + [_row("total (time per output token)", _fmt(d.total_s * MS, 3), "100.0%")]
    return rows + [_row(f"total (a pass of {per_pass:.2f} tokens)", _fmt(d.total_s * MS, 3), "100.0%"),
                   _row("time per output token", _fmt(d.total_s / per_pass * MS, 3), "")]


def traffic_and_device(e) -> list:
    t = e.traffic
    net = [_row("Traffic per decoded token", "down (c2d) kB", "up (d2c) kB"),
           _row("PrivateLoRA", _fmt(t.c2d_bytes_per_token * KB, 2), _fmt(t.d2c_bytes_per_token * KB, 2)),
           _row("full hidden state (split LoRA)", _fmt(t.lora_c2d_bytes_per_token * KB, 2),
                _fmt(t.lora_d2c_bytes_per_token * KB, 2)),
           _row("saving", f"{100 * t.saving:.1f}%", "")]
    dev = [_row("On the device", "memory MB", "GFLOP/token", "fits"),
           _row(f"PrivateLoRA ({e.inputs['device_weight_bits']}-bit)", _fmt(e.device_memory_bytes * MB),
                _fmt(e.device_flop_per_token * GFLOP, 3), "yes" if e.split_fits_device else "no"),
           _row("  LM head + M only (paper's count)", _fmt(e.device_matmul_weight_bytes * MB), "", "")]
    for d in reversed(e.device_only):
        dev.append(_row(f"device only {d.bits}-bit", _fmt(d.memory_bytes * MB),
                        _fmt(e.device_only_flop_per_token * GFLOP, 3), "yes" if d.fits else "no"))
    for d in reversed(e.device_only_with_designs):
        dev.append(_row(f"device only {d.bits}-bit + the draft", _fmt(d.memory_bytes * MB), "",
                        "yes" if d.fits else "no"))
    return net + [""] + dev


def _when(tokens) -> str:
    """When the cloud can recover a thing: from the start, from each token, or after N tokens."""
    return "from the start" if tokens == 0 else "from each token" if tokens == 1 else f"after {tokens:,} tokens"


def privacy(e) -> list:
    """What the cloud can recover (docs/privacy.md): the split's, then cloud-only's."""
    rows = []
    for label, x in (("split", e.exposure), ("cloud only", e.cloud_only_exposure)):
        if x is None:
            continue
        got = ", ".join(x.cloud_can_recover) or "nothing"
        rows.append(f"  {label}: the cloud can recover {got}")
        rows += [f"    {r.what} ({_when(r.tokens)}): {r.how}"
                 for w in ("prompt", "output", "adapter") for r in x.recoveries if r.what == w]
        rows += [f"    {w} hidden: {why}" for w, why in x.hidden]
    return ["What the cloud can recover (stated, not proved; docs/privacy.md)", *rows] if rows else []


def latency(e) -> list:
    probes = ", ".join(f"{ms} ms: {v:.2f}" for ms, v in e.decode_tokens_per_s_at_rtt.items())
    b = e.break_even
    verdict = (f"split is slower than device-only {b.bits}-bit (the fastest that fits) above an RTT of "
               f"{b.rtt_s * MS:.2f} ms" if b.rtt_s is not None else f"none: {b.reason}")
    rows = ["Latency (realistic accounting, decode tok/s): " + probes, f"  break-even: {verdict}"]
    return rows + cost(e)


def cost(e) -> list:
    c = e.cost
    if c is None:
        return []
    def usd(out, both):
        return "-" if out is None else f"{out:,.3f} USD per million output tokens ({both:,.3f} per million in + out)"
    return [f"Cost at {c.users:,.0f} requests in flight ({c.prompt_tokens} + {c.output_tokens}"
            f" tokens each; closed forms of plmodel fleet, runtime model; each on its cheapest replica size):",
            f"  split: {usd(c.split_usd_per_million_output_tokens, c.split_usd_per_million_tokens)} on "
            f"{c.split_replicas} replica(s) of {c.split_gpus_a_replica} GPU(s), {c.split_tokens_per_s:,.0f} tok/s, "
            f"{c.split_tpot_s * MS:,.1f} ms a token",
            f"  cloud-only: {usd(c.cloud_only_usd_per_million_output_tokens, c.cloud_only_usd_per_million_tokens)} on "
            f"{c.cloud_only_replicas} replica(s) of {c.cloud_only_gpus_a_replica} GPU(s), {c.cloud_only_tokens_per_s:,.0f} "
            f"tok/s, "
            f"{c.cloud_only_tpot_s * MS:,.1f} ms a token"]


def energy(e) -> list:
    v = e.energy
    if v is None:
        return ["Energy: not estimated, the device profile has no power figures"]
    rows = [f"Device energy of an answer of {v.tokens} tokens (J; the device's power profile and the link's radio)",
            _row("", "J/token", "compute", "radio", "radio tail", "baseline", "answer s", width=30)]
    options = [("split, PrivateLoRA", v.split), ("cloud only", v.cloud_only)]
    options += [(f"device only {b}-bit", en) for b, en in v.device_only_by_bits] or [("device only (none fits)", None)]
    for label, en in options:
        if en is not None:
            rows.append(_row(label, _fmt(en.j_per_token, 3), _fmt(en.compute_j), _fmt(en.radio_active_j),
                             _fmt(en.radio_tail_j), _fmt(en.baseline_j), _fmt(en.wall_s), width=30))
    b = v.break_even_rtt_s
    if v.device_only is None:
        verdict = "no device-only precision fits the device, so none to compare with"
    else:
        where = f"{b * MS:.2f} ms" if b is not None else "- (never below 10 s)"
        verdict = (f"costs more energy a token than device-only ({v.device_only_bits}-bit, the cheapest that fits) "
                   f"above an RTT of {where}")
    rows.append(f"  split: {v.tokens_per_battery_percent:,.0f} tokens per 1 % of battery; {verdict}")
    return rows


def render(e) -> str:
    """The human-readable tables of an estimate, ending with the verdict in words (lines of at most 100
    characters)."""
    lines = (header(e) + throughput(e) + [""] + breakdown(e) + [""] + traffic_and_device(e) + [""] + latency(e)
             + [""] + energy(e) + [""] + privacy(e))
    if e.inputs["mode"] == "realistic":
        lines += ["", *verdict(e).lines()]
    return "\n".join(fit(lines))
