"""How settings reach a tab: one way, whether they come from a PNG's recipe or a lesson link.

Each tab declares its settings (controls named as the function's arguments) and its cascades: which
setting fills in which others when it changes (a model brings its own steps and size; a style
method its own strength and kind of model). `apply` turns values to set into updates for the
controls and a `pending` state; the cascades, wired once by `TabSettings.wire`, then fill in what
the values did not name and keep what they did. A change the user makes by hand clears `pending`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import gradio as gr


RECIPE_CONCURRENCY = 2  # "Load settings from a PNG" events running at once, across all tabs


@dataclass(frozen=True)
class Cascade:
    """A setting whose change fills in others."""

    source: str  # the setting that changes
    reads: tuple[str, ...]  # the settings `fill` reads, by name, in `fill`'s argument order
    writes: tuple[str, ...]  # what it fills in: settings, or other components of the tab (`TabSettings.shown`)
    fill: Callable[..., dict]  # fill(*values of `reads`) -> {name in writes: value, or a dict of gr.update options}


@dataclass
class TabSettings:
    """What a tab hands the app: its settings (the lesson links' keys, the recipes' names), the
    cascades between them, and how a recipe names them."""

    controls: dict[str, Any]  # name -> component: the settings a recipe or a link can set
    cascades: list[Cascade] = field(default_factory=list)
    shown: dict[str, Any] = field(default_factory=dict)  # other components a cascade writes (visibility, say)
    from_recipe: Callable[[dict], dict] | None = None  # a recipe -> the values it sets, by setting name
    pending: Any = None  # gr.State: values a cascade must keep, set by `apply`

    def component(self, name: str):
        return self.controls.get(name, self.shown.get(name))

    def wire(self) -> None:
        """Inside the tab's Blocks: the pending state and each cascade's change event."""
        self.pending = gr.State(None)
        quiet = {"api_visibility": "private", "show_progress": "hidden"}
        for cascade in self.cascades:
            reads = [self.component(name) for name in cascade.reads]
            writes = [self.component(name) for name in cascade.writes]
            # Outside the queue: a model's own settings show at once, even while the model queue is full.
            self.controls[cascade.source].change(self._handler(cascade), [*reads, self.pending],
                                                 [*writes, self.pending], queue=False, **quiet)
        for component in self.controls.values():  # the user's own change: a recipe's or a link's values are done
            component.input(_forget, None, self.pending, queue=False, **quiet)

    def _handler(self, cascade: Cascade):
        def handler(*args):
            *values, pending = args
            updates, pending = self.cascade(cascade, dict(zip(cascade.reads, values)), pending)
            return [*(updates[name] for name in cascade.writes), pending]
        return handler

    def cascade(self, cascade: Cascade | str, values: Mapping[str, Any], pending) -> tuple[dict, dict | None]:
        """What a cascade's change event writes, given the values it reads: the filled-in defaults, except
        where `pending` (from `apply`) holds a recipe's or a link's value; and what stays pending."""
        if isinstance(cascade, str):
            cascade = next(c for c in self.cascades if c.source == cascade)
        filled = cascade.fill(*(values[name] for name in cascade.reads))
        kept = dict((pending or {}).get("values", {}))
        updates = {}
        for name in cascade.writes:
            update = _update(filled.get(name, {}))
            if name in kept:
                update["value"] = kept.pop(name)
            updates[name] = update
        return updates, ({"values": kept} if kept else None)

    def written(self) -> set[str]:
        return {name for cascade in self.cascades for name in cascade.writes}

    def apply(self, values: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[dict, dict | None]:
        """Values to set (checked already) -> ({name: gr.update}, pending). `current` holds the controls'
        present values: a cascade fires only where its source really changes."""
        updates = {name: gr.update(value=value) for name, value in values.items() if name in self.controls}
        fires = any(cascade.source in values and values[cascade.source] != current.get(cascade.source)
                    for cascade in self.cascades)
        keep = {name: value for name, value in values.items() if name in self.written()}
        return updates, ({"values": keep} if fires and keep else None)


def _update(value) -> dict:
    return gr.update(**value) if isinstance(value, dict) else gr.update(value=value)


def _forget():
    return None


def _recipe_updates(settings: TabSettings, recipe: dict, current, *, model_task: str) -> list:
    """A recipe -> the updates of every control, and the pending values (see `apply`)."""
    from . import recipe_views

    names = list(settings.controls)
    values = settings.from_recipe(recipe) if (recipe and settings.from_recipe) else \
        recipe_views.recipe_values(recipe, names, model_task=model_task)
    updates, pending = settings.apply(values, dict(zip(names, current)))
    return [updates.get(name, gr.update()) for name in names] + [pending]


def restore_from_png(box, task: str, settings: TabSettings, *, model_task: str) -> None:
    """Wire `box` so a PNG this tab made sets its settings (through `apply`, the cascades keeping them)."""
    from . import errors, gradio_internals, recipe_views

    @errors.user_errors  # a path the upload route did not write, a PNG over the pixel cap: a message
    def load(path, *current):
        path = gradio_internals.check_uploaded(path) if path else path
        return _recipe_updates(settings, recipe_views.tab_recipe(path, task), current, model_task=model_task)

    # Reading a recipe is cheap but not free (a 20 MB file): a few at a time, beside the model queue.
    box.upload(load, [box, *settings.controls.values()], [*settings.controls.values(), settings.pending],
               api_visibility="private", concurrency_limit=RECIPE_CONCURRENCY, concurrency_id="recipes")


HISTORY_LENGTH = 12  # runs a tab remembers in this session, newest first
SUMMARY_KEYS = ("prompt", "seed", "seed_a", "seed_b", "method", "frames", "steps", "guidance", "strength",
                "size", "truncation", "latent_noise", "model")


def summary(recipe: dict) -> str:
    """One line that tells runs apart: "“a red circle” · seed 3 · steps 20 · ... · builtin/shapes-t2i"."""
    parts = []
    for key in SUMMARY_KEYS:
        value = recipe.get(key)
        if value is None or value == "":
            continue
        parts.append(f"“{value}”" if key == "prompt" else str(value) if key == "model" else f"{key} {value}")
    return " · ".join(parts)[:200]


def run_history(settings: TabSettings, events, metadata, *, task: str, model_task: str) -> None:
    """This session's runs of the tab, newest first, each with its recipe: selecting one puts its settings
    back (as a recipe PNG would). The runs are kept on the server (gr.State), per browser session."""
    from . import errors, recipe_views

    with gr.Accordion("This session's runs", open=False):
        listed = gr.Radio(choices=[], type="index", label="Select a run to put its settings back",
                          info="Newest first; each keeps its recipe for as long as this page is open.",
                          elem_classes="run-history")
    kept = gr.State([])
    quiet = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}

    @errors.user_errors  # a recipe over the size limit: a message
    def remember(recipe, runs):
        recipe = recipe_views.checked_recipe(recipe) if recipe else None
        if not recipe or recipe.get("task") != task:
            return gr.update(), runs
        runs = [{"number": (runs[0]["number"] + 1) if runs else 1, "recipe": recipe}, *runs][:HISTORY_LENGTH]
        return gr.update(choices=[f"{run['number']}. {summary(run['recipe'])}" for run in runs], value=None), runs

    def restore_run(runs, row, *current):
        if not isinstance(row, int) or not 0 <= row < len(runs or []):
            return [gr.update() for _ in settings.controls] + [gr.update()]
        return _recipe_updates(settings, runs[row]["recipe"], current, model_task=model_task)

    for event in events:
        event.success(remember, [metadata, kept], [listed, kept], **quiet)
    listed.input(restore_run, [kept, listed, *settings.controls.values()],
                 [*settings.controls.values(), settings.pending], **quiet)
