"""The family contract (tests/family_contract.py) on every family in families.FAMILIES: a family gets these
checks by being in the list. A class per family and one per tiny model (model family), made from the list."""

import gradio as gr

from family_contract import FamilyContract, ModelContract
from genart_playground import families

for _family in families.FAMILIES:
    globals()[f"TestFamily_{_family.id}"] = type(f"TestFamily_{_family.id}", (FamilyContract,), {"family": _family})
    for _tiny in _family.all_tinies():
        globals()[f"TestModel_{_tiny.name}"] = type(f"TestModel_{_tiny.name}", (ModelContract,),
                                                    {"family": _family, "tiny_model": _tiny})


def test_the_ids_are_unique_and_the_tabs_are_the_apps():
    from genart_playground.ui.app import build_demo

    ids = [family.id for family in families.FAMILIES]
    assert len(set(ids)) == len(ids)
    tabs = [block.id for block in build_demo().blocks.values() if isinstance(block, gr.Tab)]
    assert tabs == [family.id for family in families.FAMILIES if family.tab]
