"""A figure's plausible range, ready to sample: the interval a [U] or [D] figure could move within, and why.

Profiles give one as a sibling key in the figure's own unit (`baseline_w_range: [0.6, 2.3]  # why`),
checked where the profile is loaded (io/ranges.py); io/scenario_ranges.py gathers a scenario's as
`Uncertain`s in SI units, with the runtimes' and a draft's acceptance's; analysis/uncertainty.py samples them.
"""

from __future__ import annotations

from plmodel.frozen import frozen


@frozen
class Uncertain:
    """One sampled figure of a scenario: where it sits (`owner`: cloud, device, link, radio, cloud_runtime,
    device_runtime, speculative; `path`: its dotted field there), its value and bounds in SI units, the
    unit and scale a table shows it in, and the source that names the range."""

    name: str  # as tables show it, e.g. "device power.baseline_w"
    owner: str
    path: str
    value: float
    low: float
    high: float
    unit: str = ""
    scale: float = 1.0  # SI -> the shown unit: shown = si / scale
    source: str = ""
