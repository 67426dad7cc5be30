"""The check, at ``import nn``/``import viz``, that ``autograd`` is this project's engine.

PyPI's ``autograd`` (HIPS autograd, which lifelines, pymoo and others depend on) is a
different package with the same import name. Installed in the same environment, it
may be the one Python finds, and ``import nn`` would then fail with ``cannot import
name 'Tensor' from 'autograd'``, which does not say why.
"""
import importlib


def check_autograd():
    """Import ``autograd`` and raise an ImportError naming the clash unless it is ours
    (ours has ``autograd.extend.Op``; HIPS autograd has ``extend`` but no ``Op``)."""
    try:
        engine = importlib.import_module("autograd")
        ours = hasattr(engine, "Tensor") and hasattr(importlib.import_module("autograd.extend"),
                                                     "Op")
    except ImportError:
        engine, ours = None, False
    if ours:
        return
    where = getattr(engine, "__file__", None) or "an unknown place"
    raise ImportError(
        f"numpy-autograd's nn and viz need this project's autograd package, but "
        f"`import autograd` found another package at {where} (probably HIPS autograd from "
        f"PyPI, installed by another library such as lifelines or pymoo; both are imported "
        f"as `autograd`). Use a separate virtual environment for this project (python3 -m "
        f"venv .venv && .venv/bin/pip install -e .), or remove the other one "
        f"(pip uninstall autograd) if nothing else needs it.")
