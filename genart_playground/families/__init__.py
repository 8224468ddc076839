"""The list of model families: the one line a new family adds.

Importing this list hands each family to the model registry (`registry.add_family`); everything else
reads the registry or this list: the loader, the public API, the recipes' "Show code", the app's tabs,
the explanations, the training CLI, the benches and the family contract tests. The core never imports
a family. See docs/architecture.md.
"""

from ..models import registry
from ..refs import resolve_ref
from . import (evaluate, flow_sample, gan_interpolation, style_transfer, text_to_image, toy_training,
               translate_image, vae_reconstruction)
from .base import Family, Kind

FAMILIES: list[Family] = [text_to_image.FAMILY, style_transfer.FAMILY, gan_interpolation.FAMILY,
                          translate_image.FAMILY, vae_reconstruction.FAMILY, flow_sample.FAMILY, toy_training.FAMILY,
                          evaluate.FAMILY]


def add(family: Family) -> Family:
    """Register one more family at run time (a plugin, or a test's throwaway family): the registry, the
    public API, the app's tabs and the contract tests then find it as they find the listed ones."""
    registry.add_family(family)
    FAMILIES.append(family)
    return family


def remove(family_id: str) -> None:
    """Undo `add`."""
    registry.remove_family(family_id)
    FAMILIES[:] = [family for family in FAMILIES if family.id != family_id]


for _family in FAMILIES:
    registry.add_family(_family)


def by_id(family_id: str) -> Family:
    return registry.family(family_id)


def kinds() -> dict[str, Kind]:
    return registry.kinds()


def api() -> dict[str, str]:
    """Every public function and its "module:attribute", across the families."""
    return {name: ref for family in FAMILIES for name, ref in family.api.items()}


def trainers() -> dict[str, str]:
    return {name: module for family in FAMILIES for name, module in family.trainers.items()}


__all__ = ["FAMILIES", "Family", "Kind", "add", "api", "by_id", "kinds", "remove", "resolve_ref", "trainers"]
