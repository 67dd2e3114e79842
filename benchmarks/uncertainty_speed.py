"""Speed of `--uncertainty`: the samples estimated at once (a vectorised scenario) against the same samples
estimated one by one, in the same run; and plan's recommendation over the samples against one plan.

Prints ratios to the baselines measured here (no absolute target: the machine varies).
Run: python benchmarks/uncertainty_speed.py [N]
"""

import sys
import time

from plmodel.analysis import uncertainty
from plmodel.analysis.estimate import estimate
from plmodel.io.profiles import load_hardware, load_link
from plmodel.io.scenario_ranges import scenario_ranges
from plmodel.models import PRESETS
from plmodel.specs import AdapterSpec, Scenario
from plmodel.studies.plan import Targets, plan
from plmodel.studies.plan_uncertainty import plan_uncertainty


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def one_by_one(scn, params, values):
    for row in values:
        estimate(uncertainty.applied(scn, params, [float(v) for v in row]), 128, with_cost=False)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    scn = Scenario(PRESETS["llama-2-7b"], AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                   load_hardware("iphone-13-pro-max"), load_link("5g-edge"))
    params = scenario_ranges(scn)
    values = uncertainty.sample(params, n, 0)
    estimate(scn, 128, with_cost=False)  # warm the caches both paths share
    vec = timed(uncertainty.records, scn, params, values, 128)
    loop = timed(one_by_one, scn, params, values)
    print(f"estimate, {n} samples of {len(params)} ranges: at once {vec:.3f} s, one by one {loop:.3f} s "
          f"({loop / vec:.0f}x faster at once)")
    single = timed(plan, scn, Targets())
    spread = timed(plan_uncertainty, scn, Targets(), 128, n, 0)
    print(f"plan: one plan {single:.3f} s; the recommendation over {n} samples {spread:.3f} s "
          f"({spread / single:.1f}x one plan; one plan a sample would be {n}x)")
