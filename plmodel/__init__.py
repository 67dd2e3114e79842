"""plmodel: how fast, how heavy and how costly is an LLM served the PrivateLoRA way.

The public API re-exported here; see README.md for the command line.
"""

from plmodel.analysis.estimate import estimate
from plmodel.analysis.result import Estimate
from plmodel.errors import PlmodelError
from plmodel.hardware.runtimes import RUNTIMES, RuntimeSpec
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS, parameter_count, resolve_model
from plmodel.specs import AdapterSpec, HardwareSpec, LinkSpec, ModelSpec, Scenario
from plmodel.step import Step
from plmodel.version import __version__
from plmodel.workload import residency, step_work

__all__ = ["PlmodelError", "estimate", "Estimate", "PRESETS", "parameter_count", "resolve_model", "load_hardware",
           "load_link", "RUNTIMES", "RuntimeSpec", "AdapterSpec", "HardwareSpec", "LinkSpec", "ModelSpec", "Scenario",
           "Step", "residency", "step_work", "__version__"]
