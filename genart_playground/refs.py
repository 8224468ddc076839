"""Functions named as "package.module:attribute" strings, imported on first use.

Family declarations name their builders, functions and tabs this way, so declaring a family imports
no torch and no Gradio, and `import genart_playground` stays light.
"""

import importlib
from collections.abc import Callable


def resolve_ref(ref: str | Callable):
    """"package.module:attribute" -> the attribute, imported now; a callable is returned as it is."""
    if callable(ref):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)
