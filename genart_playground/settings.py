"""Every environment variable the playground reads, read once, in one place.

| variable | default | what it does |
| --- | --- | --- |
| GENART_T2I_MODEL | builtin/shapes-t2i | default text-to-image model |
| GENART_VAE_MODEL | builtin/shapes-vae | default autoencoder of the VAE tab |
| GENART_GAN_MODEL | builtin/shapes-gan | default GAN generator |
| GENART_STYLE_MODEL | builtin/random-filters | default feature network for Gatys style transfer |
| GENART_ALLOW_ANY_MODEL | 0 | 1 lets any Hub id or local folder load, not only the registry's |
| GENART_MODEL_ROOTS | (empty) | extra folders, separated by ':', whose model folders may load |
| GENART_MEMORY_BUDGET_MB | 0 (no limit) | the cache evicts least recently used models above this |
| GENART_DEVICE | (auto) | cuda, mps or cpu; auto picks CUDA > MPS > CPU |
| GENART_QUEUE_SIZE | 16 | how many requests may wait in the GPU queue |
| GENART_CONCURRENCY | 1 | how many model-heavy events run at the same time |
| GENART_PUBLIC | 0 | 1 applies the public-Space limits (smaller caps, registry only, overrides GENART_ALLOW_ANY_MODEL) |
"""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUILTIN_DIR = PACKAGE_DIR / "builtin"


def _flag(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEFAULT_MODELS = {
    "text-to-image": os.environ.get("GENART_T2I_MODEL", "builtin/shapes-t2i"),
    "vae": os.environ.get("GENART_VAE_MODEL", "builtin/shapes-vae"),
    "gan": os.environ.get("GENART_GAN_MODEL", "builtin/shapes-gan"),
    "style": os.environ.get("GENART_STYLE_MODEL", "builtin/random-filters"),
}
PUBLIC = _flag("GENART_PUBLIC")
# A public deployment serves the registry's models only, whatever else is set.
ALLOW_ANY_MODEL = _flag("GENART_ALLOW_ANY_MODEL") and not PUBLIC
MODEL_ROOTS = [Path(p).resolve() for p in os.environ.get("GENART_MODEL_ROOTS", "").split(os.pathsep) if p]
MEMORY_BUDGET_BYTES = _int("GENART_MEMORY_BUDGET_MB", 0) * 2**20
DEVICE = os.environ.get("GENART_DEVICE", "").strip().lower() or None
QUEUE_SIZE = _int("GENART_QUEUE_SIZE", 16)
CONCURRENCY = _int("GENART_CONCURRENCY", 1)
