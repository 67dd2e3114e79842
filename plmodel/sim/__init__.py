"""Discrete-event simulation of split inference (SimPy): links, a batching cloud GPU, devices, users."""

from plmodel.sim.run import SimResult, simulate

__all__ = ["SimResult", "simulate"]
