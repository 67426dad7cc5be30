"""Public tools for checking gradients: ours and users' own ops alike.

``gradcheck`` compares autodiff against central differences; ``gradgradcheck`` does
the same for second derivatives; ``strategies`` has Hypothesis strategies for inputs
(import it only where Hypothesis is installed).
"""
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_grad", "strategies"]


def __getattr__(name):
    if name == "strategies":  # imported on demand: it needs Hypothesis
        import importlib
        return importlib.import_module(__name__ + ".strategies")
    raise AttributeError(f"module 'autograd.testing' has no attribute {name!r}")
