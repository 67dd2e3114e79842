"""plmodel's version, in one place (the package, the CLI and study provenance read it)."""

__version__ = "0.1.0"
