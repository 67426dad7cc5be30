"""save(graph, path): DOT text or a rendered picture, chosen by the file suffix."""
import shutil
from pathlib import Path

RENDERED = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
TEXT = (".dot", ".gv")
INSTALL_HINT = (
    "Graphviz's 'dot' program was not found on PATH, and it is needed to render {fmt}. "
    "Install Graphviz: 'apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
    "(macOS), 'conda install -c conda-forge graphviz' or https://graphviz.org/download/. "
    "Saving to a .dot file needs no Graphviz.")


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed for a rendered format and is not installed."""


def save(graph, path, dpi=None):
    """Write ``graph`` (a ``graphviz.Digraph`` or ``Source``) to ``path``.

    The suffix picks the format: ``.dot``/``.gv`` write the DOT text (no Graphviz
    program needed); ``.svg``, ``.png`` and ``.pdf`` are rendered with ``dot``.
    ``dpi`` sets the resolution of a PNG (Graphviz's default is 96) without changing
    ``graph``. Missing parent folders are created. Returns the path as a ``pathlib.Path``.

    Raises:
        ValueError: the suffix is not one of the formats above.
        TypeError: ``graph`` has no DOT source.
        GraphvizNotFoundError: a rendered format was asked for and ``dot`` is not installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT and suffix not in RENDERED:
        raise ValueError(f"save: cannot tell the format from the suffix {path.suffix!r} of "
                         f"{str(path)!r}; use one of {', '.join(TEXT + tuple(RENDERED))}")
    source = getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(f"save: expected a graphviz.Digraph (from viz.draw_graph), "
                        f"got {type(graph).__name__}")
    if suffix in TEXT:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        return path
    fmt = RENDERED[suffix]
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(INSTALL_HINT.format(fmt=fmt.upper()))
    import graphviz
    if dpi is not None and fmt == "png" and hasattr(graph, "graph_attr"):
        graph = graph.copy()
        graph.graph_attr["dpi"] = f"{float(dpi):g}"
    try:
        data = graph.pipe(format=fmt) if hasattr(graph, "pipe") else \
            graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound as err:
        raise GraphvizNotFoundError(INSTALL_HINT.format(fmt=fmt.upper())) from err
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
