"""GenArt Playground: how AI makes images, one model family per tab.

The public API is each family's functions (the `api` of every family in families.FAMILIES: text to
image, style transfer, GAN walks and style mixing, image translation, the autoencoders, the evaluation
lab, and their teaching views; plain functions, keyword-only options) and the model list. The Gradio
app in `app.py` is one user of this API; scripts and notebooks are others. Names load on first use, so
`import genart_playground` stays light (no torch until needed).
"""

from . import console, families
from .refs import resolve_ref

console.quiet_library_notices()  # before transformers is imported: notices about this environment, not a request

__version__ = "0.1.0"

_EXPORTS = {
    "models_for": "genart_playground.models.registry:models_for",
    "register": "genart_playground.models.registry:register",
    "ModelSpec": "genart_playground.models.spec:ModelSpec",
}
__all__ = [*families.api(), *_EXPORTS]  # the listed families' functions; one added later is found too


def _exports() -> dict[str, str]:
    return {**families.api(), **_EXPORTS}  # asked each time: a family added at run time exports its functions


def __getattr__(name: str):
    exports = _exports()
    if name not in exports:
        raise AttributeError(f"module 'genart_playground' has no attribute {name!r}")
    return resolve_ref(exports[name])


def __dir__() -> list[str]:
    return sorted({*globals(), *_exports()})
