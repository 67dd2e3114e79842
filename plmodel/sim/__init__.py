"""Discrete-event simulation of split inference (SimPy): links, a batching cloud GPU, devices, users."""

from .run import SimResult, simulate

__all__ = ["SimResult", "simulate"]
