"""plmodel: how fast, how heavy and how costly is an LLM served the PrivateLoRA way.

The public API re-exported here; see README.md for the command line.
"""

from .errors import PlmodelError
from .estimate import estimate
from .models import PRESETS, parameter_count, resolve_model
from .profiles import load_hardware, load_link
from .result import Estimate
from .runtimes import RUNTIMES, RuntimeSpec
from .specs import AdapterSpec, HardwareSpec, LinkSpec, ModelSpec, Scenario
from .step import Step
from .workload import residency, step_work

__all__ = ["PlmodelError", "estimate", "Estimate", "PRESETS", "parameter_count", "resolve_model", "load_hardware",
           "load_link", "RUNTIMES", "RuntimeSpec", "AdapterSpec", "HardwareSpec", "LinkSpec", "ModelSpec", "Scenario",
           "Step", "residency", "step_work"]
__version__ = "0.1.0"
