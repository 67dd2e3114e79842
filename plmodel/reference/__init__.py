"""The torch reference: a real PrivateLoRA-split LLaMA forward that checks the workload counts.

This package is the only place plmodel imports torch; import it only when torch is wanted.
"""

from plmodel.errors import PlmodelError

INSTALL_HINT = ("torch is not installed; install the extra: pip install torch==2.13.0 "
                "(the CPU build) and then pip install -e '.[torch]'")


def require_torch():
    """Import torch, or raise the tool's error saying how to install it."""
    try:
        import torch
    except ImportError:
        raise PlmodelError(INSTALL_HINT) from None
    return torch
