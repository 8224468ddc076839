"""Every environment variable the playground reads, read once, in one place.

`VARIABLES` lists them with their defaults and what they do; each family also names its own default-model
variable (`Family.default_env`: GENART_T2I_MODEL, ...). The README's configuration table is made from
both (`python -m genart_playground.reference`), and a test checks that it matches.
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


# Each family names its own variable (GENART_T2I_MODEL, ...; families/*.py); all are read here, once.
MODEL_VARIABLES = {name: value.strip() for name, value in os.environ.items()
                   if name.startswith("GENART_") and name.endswith("_MODEL") and value.strip()}


def default_model(variable: str, fallback: str) -> str:
    """The model a family's environment variable names, else the family's own default."""
    return MODEL_VARIABLES.get(variable, fallback)


# (variable, its default as shown, what it does): the variables beside the families' model variables.
VARIABLES = (
    ("GENART_ALLOW_ANY_MODEL", "`0`", "`1` lets any Hub id or local folder load, not only the registry's"),
    ("GENART_MODEL_ROOTS", "(empty)", "extra folders, separated by `:`, whose model folders may load"),
    ("GENART_MEMORY_BUDGET_MB", "`0` (no limit)", "the cache evicts least recently used models above this"),
    ("GENART_DEVICE", "(auto)", "`cuda`, `mps` or `cpu`; auto picks CUDA > MPS > CPU"),
    ("GENART_QUEUE_SIZE", "`16`", "how many requests may wait for a model, all lanes together"),
    ("GENART_CONCURRENCY", "`1`", "how many model-heavy events run at the same time"),
    ("GENART_PUBLIC", "`0`", "`1` applies the public-Space limits (smaller caps, registry only, overrides "
                             "`GENART_ALLOW_ANY_MODEL`)"),
    ("GENART_MONITORING", "`0`", "`1` opens Gradio's monitoring (`/monitoring`: the dashboard's URL is "
                                 "printed to the log, and `/monitoring/summary` answers anyone)"),
    ("GENART_TRUSTED_PROXIES", "(none; `*` on a Space)", "the proxies in front of the server, by address or "
                                                      "network (`10.0.0.0/8`), comma-separated, or `*` for any "
                                                      "peer: only then is `X-Forwarded-For` read, from its right"),
)

PUBLIC = _flag("GENART_PUBLIC")
# A public deployment serves the registry's models only, whatever else is set.
ALLOW_ANY_MODEL = _flag("GENART_ALLOW_ANY_MODEL") and not PUBLIC
MODEL_ROOTS = [Path(p).resolve() for p in os.environ.get("GENART_MODEL_ROOTS", "").split(os.pathsep) if p]
MEMORY_BUDGET_BYTES = _int("GENART_MEMORY_BUDGET_MB", 0) * 2**20
DEVICE = os.environ.get("GENART_DEVICE", "").strip().lower() or None
QUEUE_SIZE = _int("GENART_QUEUE_SIZE", 16)
MONITORING = _flag("GENART_MONITORING")
CONCURRENCY = _int("GENART_CONCURRENCY", 1)
# Who may say who a visitor is (X-Forwarded-For): nobody unless named. A Space is reached only through
# Hugging Face's proxy, so there the peer is always a proxy.
TRUSTED_PROXIES = tuple(item.strip() for item in os.environ.get(
    "GENART_TRUSTED_PROXIES", "*" if os.environ.get("SPACE_ID") else "").split(",") if item.strip())
