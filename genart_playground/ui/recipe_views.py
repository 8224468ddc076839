"""A result's recipe on the page: "Show code", its warnings, and "Load settings from a PNG"."""

import gradio as gr

from .. import recipes
from ..models import registry
from . import gradio_internals
from .errors import user_errors


def recipe_panel(*, diffusers: bool = False) -> tuple:
    """The "Show code" accordion (package API, and plain diffusers where it applies) and the card."""
    with gr.Accordion("Show code", open=False):
        code = gr.Code(label="Make it again with genart_playground", language="python", interactive=False)
        extra = (gr.Code(label="Make it again with plain diffusers", language="python", interactive=False),
                 ) if diffusers else ()
    card = gr.Markdown(recipes.reproducibility_card({}))
    return (code, *extra, card)


MAX_RECIPE_BYTES = 64 * 2**10  # a recipe is a few KB; the "Show code" step reads it back from the page


def checked_recipe(metadata) -> dict:
    """The recipe the page sends back for "Show code": a dict of at most MAX_RECIPE_BYTES."""
    import json

    if not isinstance(metadata, dict):
        raise ValueError("The recipe must be a JSON object.")
    if len(json.dumps(metadata, default=str)) > MAX_RECIPE_BYTES:
        raise ValueError(f"The recipe is over {MAX_RECIPE_BYTES // 1024} KB; a result's recipe is a few KB.")
    return metadata


@user_errors  # an oversized recipe, or a task no family writes code for: a message
def show_recipe(metadata):
    """A result's metadata -> the code snippet and the reproducibility card."""
    if not metadata:
        return "", recipes.reproducibility_card({})
    metadata = checked_recipe(metadata)
    return recipes.code_snippet(metadata), recipes.reproducibility_card(metadata)


@user_errors  # an oversized recipe: a message
def warnings_note(metadata):
    """A result's warnings (what the model could not do with the request), shown beside its pictures: unlike
    a toast they stay. Hidden when there are none."""
    warnings = checked_recipe(metadata).get("warnings") if metadata else None
    lines = [f"- {warning}" for warning in (warnings if isinstance(warnings, list) else []) if isinstance(warning, str)]
    text = "**What the model could not do with this request:**\n" + "\n".join(lines) if lines else ""
    return gr.update(value=text, visible=bool(lines))


def show_recipe_with_diffusers(metadata):
    code, card = show_recipe(metadata)
    plain = ((recipes.diffusers_snippet(metadata) if metadata else None)
             or "# Plain diffusers code is given for a text-to-image run of a diffusers pipeline.")
    return code, plain, card


RECIPE_BOX_LABEL = "Load settings from a PNG"


def recipe_file() -> gr.File:
    """The "Load settings from a PNG" box: an image this app made puts its settings back."""
    # A hand-written {"path": ...} reaches the handler, which refuses what the upload route did not write.
    return gradio_internals.accept_bare_paths(gr.File(label=RECIPE_BOX_LABEL, file_types=[".png"], type="filepath",
                                                      height=150))  # room for "Drop File Here - or - Click to Upload"


def tab_recipe(path, task: str) -> dict:
    """A PNG's recipe when this tab made it; {} and a warning when it has none or another tab made
    it. A recipe without a task is another tool's AUTOMATIC1111 parameters: a text-to-image run."""
    recipe = recipes.read_recipe(path) if path else None
    if recipe and recipe.get("task", "text_to_image") != task:
        gr.Warning("That image was made by another tab; load it there instead.")
        return {}
    if not recipe:
        if path:
            gr.Warning("That image carries no recipe.")
        return {}
    return recipe


def recipe_values(recipe: dict, names, *, model_task: str) -> dict:
    """The recipe's values for the controls named, by name; a setting it lacks is left out (its
    control keeps its value), and so is a model this app does not list (another tool's checkpoint)."""
    values = {name: recipe[name] for name in names if recipe.get(name) is not None}
    if values.get("model") not in {spec.name for spec in registry.models_for(model_task)}:
        values.pop("model", None)
    return values
