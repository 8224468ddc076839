"""GenArt Playground: how AI makes images, one model family per tab.

The public API is each family's functions (the `api` of every family in families.FAMILIES: text to
image, style transfer, GAN walks and style mixing, image translation, the autoencoders, the evaluation
lab, and their teaching views; plain functions, keyword-only options) and the model list. The Gradio app in `app.py` is one user of this API; scripts and
notebooks are others. Names load on first use, so `import genart_playground` stays light (no torch
until needed).
"""

import importlib

from . import console, families

console.quiet_library_notices()  # before transformers is imported: notices about this environment, not a request

__version__ = "0.1.0"

_EXPORTS = {
    **families.api(),
    "models_for": "genart_playground.models.registry:models_for",
    "register": "genart_playground.models.registry:register",
    "ModelSpec": "genart_playground.models.spec:ModelSpec",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'genart_playground' has no attribute {name!r}")
    module, _, attribute = _EXPORTS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)
