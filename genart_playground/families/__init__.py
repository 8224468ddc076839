"""The list of model families: the one line a new family adds.

Everything else iterates this list: the registry (models and kinds), the loader, the public API,
the recipes' "Show code", the app's tabs, the explanations, the training CLI, the benches and the
family contract tests. See docs/architecture.md.
"""

from . import evaluate, gan_interpolation, style_transfer, text_to_image, translate_image, vae_reconstruction
from .base import Family, Kind, resolve_ref

FAMILIES: list[Family] = [text_to_image.FAMILY, style_transfer.FAMILY, gan_interpolation.FAMILY,
                          translate_image.FAMILY, vae_reconstruction.FAMILY, evaluate.FAMILY]


def by_id(family_id: str) -> Family:
    for family in FAMILIES:
        if family.id == family_id:
            return family
    raise ValueError(f"Unknown family {family_id!r}; families are {', '.join(f.id for f in FAMILIES)}.")


def kinds() -> dict[str, Kind]:
    return {kind.name: kind for family in FAMILIES for kind in family.kinds}


def api() -> dict[str, str]:
    """Every public function and its "module:attribute", across the families."""
    return {name: ref for family in FAMILIES for name, ref in family.api.items()}


def snippet(task: str):
    """The "Show code" function for a result whose metadata["task"] is `task`; None if no family has one."""
    for family in FAMILIES:
        if task in family.snippets:
            return resolve_ref(family.snippets[task])
    return None


def trainers() -> dict[str, str]:
    return {name: module for family in FAMILIES for name, module in family.trainers.items()}


__all__ = ["FAMILIES", "Family", "Kind", "api", "by_id", "kinds", "snippet", "trainers"]
