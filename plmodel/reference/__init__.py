"""The torch reference: a real PrivateLoRA-split LLaMA forward that checks the workload counts.

This package is the only place plmodel imports torch; import it only when torch is wanted.
"""

from plmodel.errors import PlmodelError

INSTALL_HINT = ("torch is not installed: install a CPU build of torch 2.1 or newer first (a bare `pip install torch` "
                "pulls the CUDA build, several GB), then pip install 'plmodel[torch]' (in a source checkout: "
                "pip install -e '.[torch]')")


def require_torch():
    """Import torch, or raise the tool's error saying how to install it."""
    try:
        import torch
    except ImportError:
        raise PlmodelError(INSTALL_HINT) from None
    return torch
