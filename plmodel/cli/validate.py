"""Check the workload counts against a real torch forward of a PrivateLoRA-split model.

The full-size model is built on torch's meta device (shapes only, no weights allocated) and run for
a prefill and a decode step: bytes crossing each way (in total and per layer) and FLOPs on each side
(torch.utils.flop_counter.FlopCounterMode) must equal the analytical counts, and so must the memory
each part holds. A scaled-down copy (same GQA ratio, targets and ranks) then runs for real in
float32: its split logits must equal the unsplit model with W + A M B merged (relative 1e-5), and one
optimiser step on the device part must change only M. Exit status 0 when all match, 1 otherwise.
It also reports what the cloud learns of M: from one prompt's traffic of the scaled copy (u = x A down,
v = u M back) it recovers every M by least squares; a finding about the design, not a check of the model,
so it does not change the exit status.
"""

from __future__ import annotations

import json
from dataclasses import replace

from plmodel.adapter_fit import check_adapter_fits
from plmodel.cli import scenario_args
from plmodel.design import with_layer_split
from plmodel.designs import HeldLayers
from plmodel.designs.held_layers import check_split
from plmodel.errors import PlmodelError
from plmodel.io.scenario_options import build_designs


def register_arguments(p) -> None:
    scenario_args.register(p, with_profiles=False, with_mode=False)
    scenario_args.register_designs(p, (HeldLayers,))  # the layers the device runs: the reference builds them
    p.add_argument("--build-layers", type=int, metavar="N", help="build only the first N layers (default: all; meta device)")
    p.add_argument("--json", action="store_true", help="print one JSON object (bytes, FLOPs) instead of the table")


def model_and_adapter(args) -> tuple:
    """The model and the adapter the options give, with the layers the device runs (--device-layers-*), checked."""
    model, adapter = scenario_args.build_model(args), scenario_args.build_adapter(args)
    try:
        check_adapter_fits(model, adapter)
        held = build_designs(args, (HeldLayers,))
        adapter = with_layer_split(adapter, held)
        for d in held:
            check_split(model, adapter, d.field)
    except PlmodelError as exc:
        raise exc.named(scenario_args.OPTION_OF) from None
    return model, adapter


def run(args) -> int:
    model, adapter = model_and_adapter(args)
    scenario_args.check_workload(args)
    if model.mlp != "swiglu":
        raise PlmodelError(f"--model: the torch reference builds LLaMA-style layers (SwiGLU); {model.name} has a "
                           "GELU MLP")
    if adapter.act_bits not in (16, 32):
        raise PlmodelError(f"--act-bits: validate runs 16- or 32-bit tensors, got {adapter.act_bits}")
    build = model.n_layers if args.build_layers is None else args.build_layers
    if not 1 <= build <= model.n_layers:
        raise PlmodelError(f"--build-layers: expected 1..{model.n_layers}, got {build}")
    if build <= adapter.split.on_device:
        raise PlmodelError(f"--build-layers: expected more than the {adapter.split.on_device} layers the device holds, "
                           f"got {build}")
    if adapter.layers is not None and min(adapter.layers) >= build - adapter.split.last:
        raise PlmodelError(f"--build-layers: none of the adapted layers is among the first {build} on the cloud")
    from plmodel.reference import require_torch

    torch = require_torch()
    from plmodel.reference.checks import count_checks, faithfulness, scaled_down
    from plmodel.reference.recovery import adapter_recovery, underdetermined

    dtype = torch.float16 if adapter.act_bits == 16 else torch.float32
    checks = count_checks(model, adapter, args.batch, args.prompt_tokens, dtype=dtype, build_layers=build)
    small = scaled_down(model, 2 + adapter.split.on_device)  # two cloud layers between those the device holds
    first = adapter.split.first
    small_adapter = replace(adapter, r_c2d=min(adapter.r_c2d, small.d_model), r_d2c=min(adapter.r_d2c, small.d_model),
                            layers=None if adapter.layers is None else tuple(first + (i - first) % 2 for i in adapter.layers))
    faith = faithfulness(small, small_adapter)
    recovery = (adapter_recovery(small, small_adapter, args.prompt_tokens), underdetermined(small, small_adapter))
    ok = all(c.ok for c in checks) and faith["max_rel_logit_diff"] < 1e-5 \
        and faith["device_changed"] == faith["m_names"] and not faith["cloud_changed"]
    if args.json:
        print(json.dumps(as_json(model, adapter, build, checks=checks, faith=faith, recovery=recovery, ok=ok), indent=1))
    else:
        print(render(model, adapter, build, args, checks=checks, faith=faith, small=small))
        print(render_recovery(*recovery))
        print(f"verdict: {'all checks match' if ok else 'MISMATCH'}")
    return 0 if ok else 1


def render_recovery(full, short) -> str:
    """What the cloud learns of M from the scaled copy's traffic (the lines after the faithfulness ones)."""
    if not full.projections:
        return "  adapter M: no adapted projection, so no u or v on the link\n"
    note = f"median {_error(full.median_error)}" if full.determined else "underdetermined: u has rank < r_c2d"
    lines = ["  adapter M recovered by the cloud from one prompt's traffic (u = x A down, v = u M back, least squares)",
             f"    max relative error {_error(full.max_error)} over {full.projections} projections ({full.tokens} tokens "
             f"crossed, r_c2d = {full.r_c2d}; {note})"]
    if short is not None and short.tokens < full.tokens:
        lines.append(f"    from {short.tokens} tokens (< r_c2d, underdetermined): max relative error "
                     f"{_error(short.max_error)} (median {_error(short.median_error)})")
    lines.append("    a finding about the design, not a check: it does not change the verdict")
    return "\n".join(lines + [""])


def _error(x: float) -> str:
    return f"{x:.1e}" if x < 0.01 else f"{x:.2f}"


def as_json(model, adapter, build, *, checks, faith, recovery, ok) -> dict:
    """validate's results as one JSON object: the checks as a list, the rest flat."""
    full, short = recovery
    return {"model": model.name, "layers_built": build, "rank_c2d": adapter.r_c2d, "rank_d2c": adapter.r_d2c,
            "targets": ",".join(adapter.targets) or "none", "act_bits": adapter.act_bits,
            "checks": [{"section": c.section, "name": c.name, "analytical": c.expected, "measured": c.measured,
                        "match": c.ok} for c in checks],
            "max_rel_logit_diff": faith["max_rel_logit_diff"],
            "training_changes_only_m": faith["device_changed"] == faith["m_names"] and not faith["cloud_changed"],
            "adapter_recovery_relative_error": full.max_error,
            "adapter_recovery_median_relative_error": full.median_error,
            "adapter_recovery_projections": full.projections, "adapter_recovery_tokens": full.tokens,
            "adapter_recovery_r_c2d": full.r_c2d, "adapter_recovery_determined": full.determined,
            "adapter_recovery_underdetermined_tokens": None if short is None else short.tokens,
            "adapter_recovery_underdetermined_relative_error": None if short is None else short.max_error,
            "all_match": ok}


def render(model, adapter, build, args, *, checks, faith, small) -> str:
    lines = [f"plmodel validate - {model.name}, {build} of {model.n_layers} layers built on the meta device, "
             f"r_c2d={adapter.r_c2d} r_d2c={adapter.r_d2c}, targets {','.join(adapter.targets) or 'none'}, "
             f"{adapter.act_bits}-bit tensors", "", f"  {'':<46}{'analytical':>18}{'measured':>18}  match"]
    section = None
    for c in checks:
        if c.section != section:
            section = c.section
            lines.append(f"  {section}")
        lines.append(f"    {c.name:<44}{c.expected:>18,.0f}{c.measured:>18,.0f}  {'yes' if c.ok else 'NO'}")
    ok_logits = faith["max_rel_logit_diff"] < 1e-5
    ok_train = faith["device_changed"] == faith["m_names"] and not faith["cloud_changed"]
    lines += ["", f"  faithfulness, real float32 run of {small.name} (d={small.d_model}, {small.n_heads} heads, "
              f"{small.n_kv_heads} KV heads, {small.n_layers} layers)",
              f"    split vs merged W + A M B: max |diff| / max |logit| = {faith['max_rel_logit_diff']:.1e} "
              f"(< 1e-5)  {'yes' if ok_logits else 'NO'}",
              f"    one optimiser step on the device part changes {len(faith['device_changed'])} tensors, all of "
              f"them M; cloud tensors changed: {len(faith['cloud_changed'])}  {'yes' if ok_train else 'NO'}", ""]
    return "\n".join(lines)
