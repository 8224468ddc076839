"""Named models per family, and where each one's weights come from.

A model is either a folder shipped inside the package (the built-ins, `builtin/...`) or a Hub id.
Both load through the same code (`models/loading.py`); this file only says what exists. The
families (`families/`) declare their models and kinds and hand themselves to `add_family` when their
list is imported (`import genart_playground` does that): the registry never imports a family.
"""

import json
import re
from pathlib import Path

from .. import settings
from ..refs import resolve_ref
from .spec import LEGACY_NAMES, ModelSpec

__all__ = ["ModelSpec", "register", "unregister", "resolve", "models_for", "default_model"]

_REGISTRY: dict[str, ModelSpec] = {}
_FAMILIES: dict = {}  # id -> the family's declaration (families/base.py: Family), in the order added
_KINDS: dict = {}  # kind name -> its Kind, across the families
_VIEWERS: dict[str, set[str]] = {}  # a model registered for some page sessions only -> those sessions
# Each family's default model, with its environment variable applied (settings.py reads them).
DEFAULT_MODELS: dict[str, str] = {}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")


def add_family(family) -> None:
    """Take a family's declaration: its kinds, its models and its default model."""
    if family.id in _FAMILIES:
        raise ValueError(f"A family {family.id!r} is registered already.")
    clashes = {kind.name for kind in family.kinds} & _KINDS.keys()
    if clashes:
        raise ValueError(f"Family {family.id!r}: kind(s) {', '.join(sorted(clashes))} belong to another family.")
    _FAMILIES[family.id] = family
    _KINDS.update({kind.name: kind for kind in family.kinds})
    if family.default_model:
        DEFAULT_MODELS[family.id] = settings.default_model(family.default_env, family.default_model)
    for spec in family.models:
        if spec.name in _REGISTRY:
            raise ValueError(f"Family {family.id!r}: model {spec.name!r} is registered already.")
        register(spec)


def remove_family(family_id: str) -> None:
    """Forget a family and its models (a test's throwaway family, at its end)."""
    family = _FAMILIES.pop(family_id)
    for kind in family.kinds:
        _KINDS.pop(kind.name, None)
    DEFAULT_MODELS.pop(family_id, None)
    for name in [name for name, spec in _REGISTRY.items() if spec.family == family_id]:
        del _REGISTRY[name]


def family_ids() -> list[str]:
    return list(_FAMILIES)


def family(family_id: str):
    """A registered family's declaration."""
    return _FAMILIES[_family_id(family_id)]


def families_that(*capabilities: str) -> list[str]:
    """The ids of the families that have any of these capabilities (families/base.py: CAPABILITIES)."""
    return [family_id for family_id, declared in _FAMILIES.items()
            if any(declared.can(capability) for capability in capabilities)]


def _code_for(task: str, attribute: str):
    """(family id, function) of the family whose `attribute` (snippets, plain_snippets) has `task`; None."""
    for family_id, declared in _FAMILIES.items():
        functions = getattr(declared, attribute)
        if task in functions:
            return family_id, resolve_ref(functions[task])
    return None


def plain_snippet(task: str):
    """(family id, the plain-library code function) for a result whose metadata["task"] is `task`; None."""
    return _code_for(task, "plain_snippets")


def can(spec: ModelSpec, ability: str) -> bool:
    """Whether a model's kind has an ability (families/base.py: ABILITIES), known before it loads."""
    return ability in _KINDS[spec.kind].abilities


def kinds() -> dict:
    return dict(_KINDS)


def snippet(task: str):
    """The "Show code" function for a result whose metadata["task"] is `task`; None if no family has one."""
    found = _code_for(task, "snippets")
    return found[1] if found else None


def _family_id(name: str) -> str:
    family_id = LEGACY_NAMES.get(name, name)
    if family_id not in family_ids():
        raise ValueError(f"Unknown family {name!r}; families are {', '.join(family_ids())}.")
    return family_id


def default_model(family: str) -> str:
    family_id = _family_id(family)
    if family_id not in DEFAULT_MODELS:
        raise ValueError(f"The {_FAMILIES[family_id].title} family loads no stored models.")
    return DEFAULT_MODELS[family_id]


def register(spec: ModelSpec, *, viewers: set[str] | None = None) -> ModelSpec:
    """Add a model. `viewers`: the page sessions it belongs to (a training-lab run's), a set the caller may
    grow later; on a public server only those pages list it (`visible`)."""
    _family_id(spec.family)
    if spec.kind not in _KINDS:
        raise ValueError(f"Unknown kind {spec.kind!r}; kinds are {', '.join(_KINDS)}.")
    # Checked here, not at load: a URL or a path-like id must never reach huggingface_hub.
    if _KINDS[spec.kind].config_file is not None and not spec.is_local and \
            (not _HUB_ID.match(spec.source) or ".." in spec.source):
        raise ValueError(f"Model {spec.name!r}: source {spec.source!r} is neither a folder nor a Hub id (owner/name); "
                         "a URL is refused.")
    # A family's own models (the built-ins, the checkpoints it declares) keep their names: registering
    # another model as `builtin/shapes-gan` would silently change what every user and recipe of it gets.
    declared = next((model for family in _FAMILIES.values() for model in family.models if model.name == spec.name),
                    None)
    if declared is not None and declared != spec:
        raise ValueError(f"{spec.name!r} is a model the {declared.family} family declares; register yours under "
                         "another name.")
    _REGISTRY[spec.name] = spec
    if viewers is not None:
        _VIEWERS[spec.name] = viewers
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)
    _VIEWERS.pop(name, None)


def visible(spec: ModelSpec, session: str | None) -> bool:
    """Whether a page session's model lists show the model: one registered for some sessions only (a visitor's
    training-lab run) is listed to those on a public server (GENART_PUBLIC), to every page on a private one."""
    viewers = _VIEWERS.get(spec.name)
    return viewers is None or not settings.PUBLIC or session in viewers


def _check_unregistered(name: str) -> None:
    if "://" in name or name.startswith(("hf:", "www.")):
        raise ValueError(f"Model {name!r} looks like a URL; give a Hub id (owner/name) or a registered name.")
    if not settings.ALLOW_ANY_MODEL:
        raise ValueError(f"Model {name!r} is not in the registry; set GENART_ALLOW_ANY_MODEL=1 to allow others.")
    path = Path(name).expanduser()
    if path.is_absolute() or name.startswith("."):
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in settings.MODEL_ROOTS):
            raise ValueError(f"Model folder {name!r} is outside the allowed roots (GENART_MODEL_ROOTS).")
        return
    if not _HUB_ID.match(name) or ".." in name:
        raise ValueError(f"Model {name!r} is not a Hub id of the form owner/name.")


def resolve(family: str, name: str | None = None) -> ModelSpec:
    """The spec for `name` (None: the family's configured default)."""
    family = _family_id(family)
    name = name or default_model(family)
    if not isinstance(name, str):
        raise ValueError(f"`model` must be a model name, got {type(name).__name__}.")
    spec = _REGISTRY.get(name)
    if spec is None:
        _check_unregistered(name)
        source = str(Path(name).expanduser().resolve()) if Path(name).expanduser().is_absolute() else name
        spec = ModelSpec(name, family, _kind_of_unregistered(_FAMILIES[family], source), source)
    if spec.family != family:
        raise ValueError(f"Model {name!r} is a {spec.family} model, not a {family} model.")
    return spec


def _kind_of_unregistered(family, source: str) -> str:
    """The kind that recognises the model's config (read from its folder or the local Hub cache, never the
    network); otherwise the family's first kind that reads files (a pipeline, a generator, ...)."""
    readers = [kind for kind in family.kinds if kind.config_file is not None]
    for kind in readers:
        if kind.recognises is not None:
            config = _local_config(source, kind.config_file)
            if config is not None and kind.recognises(config):
                return kind.name
    return readers[0].name


_MAX_CONFIG_BYTES = 1 << 20  # a model's config.json is a few kB; anything far larger is not one


def _local_config(source: str, filename: str) -> dict | None:
    from huggingface_hub import try_to_load_from_cache

    path = Path(source) / filename if Path(source).is_absolute() else try_to_load_from_cache(source, filename)
    if not isinstance(path, (str, Path)) or not Path(path).is_file() or Path(path).stat().st_size > _MAX_CONFIG_BYTES:
        return None
    try:
        config = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def family_of(name: str) -> str:
    """The family of a registered model."""
    if name not in _REGISTRY:
        raise ValueError(f"Model {name!r} is not in the registry.")
    return _REGISTRY[name].family


def models_for(family: str) -> list[ModelSpec]:
    family = _family_id(family)
    return [spec for spec in _REGISTRY.values() if spec.family == family]
