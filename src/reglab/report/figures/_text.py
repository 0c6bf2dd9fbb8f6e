"""User strings in figures: shown as written, never parsed as matplotlib mathtext."""


def plain(text: object) -> str:
    """Escape ``$`` so that a name such as ``"cost $5 $6"`` is not read as mathtext.

    An unbalanced ``$`` would otherwise make matplotlib raise while rendering, and a
    balanced pair would silently turn part of a variant's name into a formula.

    Examples
    --------
    >>> plain("l2 $0.1$")
    'l2 \\\\$0.1\\\\$'
    """
    return str(text).replace("$", r"\$")
