"""Closed-form estimate of one PrivateLoRA configuration, with cloud-only, device-only and split-LoRA baselines.

For the paper's prefill figure, "tokens in mini-batch" N is --batch 1 --prompt-tokens N; for its
decode figure, batch size B is --batch B.
"""

from __future__ import annotations

import json

from ..estimate import RTT_PROBES_MS, estimate
from . import scenario_args

HELP = "estimate tokens/s, latency, traffic and device cost of one configuration"


def register_arguments(p) -> None:
    scenario_args.register(p)
    p.add_argument("--json", action="store_true", help="print one flat JSON object (SI units) instead of tables")


def run(args) -> int:
    result = estimate(scenario_args.build_scenario(args))
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0


def _row(label, *cells, width=34):
    return f"  {label:<{width}}" + "".join(f"{c:>14}" for c in cells)


def _fmt(x, digits=1):
    return f"{x:,.{digits}f}"


def render(r: dict) -> str:
    """The human-readable tables of an estimate record."""
    ms = 1e3
    head = [
        f"plmodel estimate - {r['model']}, PrivateLoRA r_c2d={r['rank_c2d']} r_d2c={r['rank_d2c']} on "
        f"{r['targets']} in {r['adapted_layers']} layers, {r['act_bits']}-bit activations",
        f"  cloud {r['cloud']} (decoder speed: {r['cloud_speed_source']}), device {r['device']}, network "
        f"{r['network']} (down {r['c2d_bandwidth_bps'] / 1e6:,.1f} Mbit/s, up {r['d2c_bandwidth_bps'] / 1e6:,.1f} "
        f"Mbit/s, RTT {r['rtt_s'] * ms:.1f} ms)",
        f"  mode {r['mode']}, batch {r['batch']}, prompt {r['prompt_tokens']} tokens", ""]
    thr = [_row("Throughput", "prefill tok/s", "decode tok/s", "TTFT ms"),
           _row("split, PrivateLoRA", _fmt(r["prefill_tokens_per_s"]), _fmt(r["decode_tokens_per_s"], 2),
                _fmt(r["ttft_s"] * ms, 0)),
           _row("split, LoRA shipping hidden state", _fmt(r["split_lora_prefill_tokens_per_s"]),
                _fmt(r["split_lora_decode_tokens_per_s"], 2), ""),
           _row(f"cloud only ({r['cloud_only_decode_source']})", _fmt(r["cloud_only_prefill_tokens_per_s"]),
                _fmt(r["cloud_only_decode_tokens_per_s"], 2), _fmt(r["cloud_only_ttft_s"] * ms, 0))]
    for bits in (4, 3):
        thr.append(_row(f"device only {bits}-bit ({r[f'device_only_{bits}bit_decode_source']})",
                        _fmt(r[f"device_only_{bits}bit_prefill_tokens_per_s"]),
                        _fmt(r[f"device_only_{bits}bit_decode_tokens_per_s"], 2), ""))
    step = r["decode_step_s"]
    brk = [_row("Decode step of one sequence", "ms", "share")]
    for key, label in (("cloud", "cloud compute"), ("device", "device compute"), ("transfer", "link transfer"),
                       ("latency", f"link latency ({r['round_trips_per_step'] + 1} RTTs)")):
        v = r[f"decode_{key}_s"]
        brk.append(_row(label, _fmt(v * ms, 3), f"{100 * v / step:.1f}%"))
    brk.append(_row("total (time per output token)", _fmt(step * ms, 3), "100.0%"))
    kb = 1e-3
    net = [_row("Traffic per decoded token", "down (c2d) kB", "up (d2c) kB"),
           _row("PrivateLoRA", _fmt(r["c2d_bytes_per_token"] * kb, 2), _fmt(r["d2c_bytes_per_token"] * kb, 2)),
           _row("full hidden state (split LoRA)", _fmt(r["lora_c2d_bytes_per_token"] * kb, 2),
                _fmt(r["lora_d2c_bytes_per_token"] * kb, 2)),
           _row("saving", f"{100 * r['traffic_saving']:.1f}%", "")]
    mb, gf = 1e-6, 1e-9
    dev = [_row("On the device", "memory MB", "GFLOP/token", "fits"),
           _row(f"PrivateLoRA ({r['device_weight_bits']}-bit)", _fmt(r["device_memory_bytes"] * mb),
                _fmt(r["device_flop_per_token"] * gf, 3), "yes"),
           _row("  LM head + M only (paper's count)", _fmt(r["device_matmul_weight_bytes"] * mb), "", "")]
    for bits in (4, 3):
        dev.append(_row(f"device only {bits}-bit", _fmt(r[f"device_only_{bits}bit_memory_bytes"] * mb),
                        _fmt(r["device_only_flop_per_token"] * gf, 3),
                        "yes" if r[f"device_only_{bits}bit_fits"] else "no"))
    probes = ", ".join(f"{ms_} ms: {r[f'decode_tokens_per_s_rtt_{ms_}ms']:.2f}" for ms_ in RTT_PROBES_MS)
    lat = ["Latency (realistic accounting, decode tok/s): " + probes,
           f"  break-even: split is slower than device-only 4-bit above an RTT of {r['break_even_rtt_s'] * ms:.2f} ms"]
    if "cloud_usd_per_million_tokens" in r:
        lat.append(f"  cloud cost: {r['cloud_usd_per_million_tokens']:,.2f} USD per million decoded tokens "
                   "(one GPU-hour at list price / decode tokens per hour)")
    return "\n".join(head + thr + [""] + brk + [""] + net + [""] + dev + [""] + lat)
