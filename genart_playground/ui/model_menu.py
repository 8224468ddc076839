"""The model dropdowns: which models a tab lists, and whether each can run now."""

import gradio as gr

from ..models import registry
from ..models.loading import availability

# availability() -> the mark shown beside a model name in the dropdowns
_MARKS = {
    "built-in": "✓ built-in",
    "local": "✓ local folder",
    "cached": "✓ downloaded",
    "download": "⤓ not downloaded (downloads on first use)",
    "missing": "✗ not available offline",
}
_SEPARATOR = "  "


def model_label(spec) -> str:
    status = availability(spec)
    if status == "missing" and spec.is_builtin:
        return f"{spec.name}{_SEPARATOR}✗ not trained yet"
    return f"{spec.name}{_SEPARATOR}{_MARKS.get(status, status)}"


def model_choices(task: str, able: str | None = None, session: str | None = None) -> list[tuple[str, str]]:
    """(label, name) pairs for a dropdown (only models with the ability `able`, when given, that the page
    `session` may list): the label says whether the model can run now."""
    return [(model_label(spec), spec.name) for spec in registry.models_for(task)
            if (able is None or registry.can(spec, able)) and registry.visible(spec, session)]


def model_name(choice: str | None) -> str | None:
    """A dropdown value (or an API client's string, label included) back to a model name."""
    if not choice:
        return None  # the adapter's configured default
    if not isinstance(choice, str):
        raise ValueError(f"`model` must be a model name, got {type(choice).__name__}.")
    return choice.split(_SEPARATOR)[0].strip()


def default_choice(task: str, choices: list[tuple[str, str]]) -> str | None:
    """The configured default when it is listed, else the first model listed."""
    names = [name for _, name in choices]
    default = registry.default_model(task)
    return default if default in names else (names[0] if names else None)


def model_dropdown(task: str, *, label: str = "Model", info: str | None = None, able: str | None = None) -> gr.Dropdown:
    choices = model_choices(task, able)
    dropdown = gr.Dropdown(choices=choices, value=default_choice(task, choices),
                           label=label, allow_custom_value=True,  # registered later, or any id with GENART_ALLOW_ANY_MODEL
                           info=info or "✓ runs now · ⤓ downloads on first use · ✗ cannot run here")

    def listed_models(request: gr.Request):
        """The list again: a model registered since the page was built (a training lab run) shows up; a
        visitor's own run, on a public server, to that visitor's page only."""
        return gr.update(choices=model_choices(task, able, request.session_hash if request else None))

    dropdown.focus(listed_models, None, dropdown, queue=False, api_visibility="private", show_progress="hidden")
    return dropdown
