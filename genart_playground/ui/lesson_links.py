"""Lesson links: the open tab and its settings live in the page URL, so a shared link opens the app
with those settings filled in.

    http://127.0.0.1:7860/?tab=gan_interpolation&seed_a=3&seed_b=9&method=lerp&frames=24

`tab` is a tab id; every other key is one of that tab's settings, named as the adapter's argument.
A link holds only the settings that differ from the page's own, so it stays short. Every value is
checked against its control (bounds, whole numbers, choices, yes/no, length); what does not fit is
left out and named in one warning, and the page opens anyway.

The parsing and checking are plain functions of plain data (`Setting`, `parse`, `query_string`);
`attach` wires them to the page: a load event that fills the controls from the URL, and
client-side events that keep the address bar and the "Lesson link" box in step with the page.
"""

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

TAB_KEY = "tab"
WARNING_ITEMS = 3  # what the warning names, at most, of what a link could not apply
KEY_LIMIT = 30  # characters of an unknown key the warning shows
# Query keys Gradio's own frontend reads (API page, settings, deep links, theme): never ours, never warned about.
GRADIO_KEYS = {"view", "lang", "ui", "deep_link", "write_token"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Setting:
    """What one control accepts, read from it once when the page is built."""

    kind: str                        # "number", "choice", "bool" or "text"
    default: Any = None              # the control's value when the page opens
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False            # whole numbers only (precision 0, or a slider with a whole step)
    optional: bool = False           # a number box may be left empty (the model's own setting)
    choices: tuple = ()
    max_length: int | None = None


@dataclass
class LessonLink:
    """A URL's query, checked: the tab to open, the values to fill in, and what was left out and why."""

    tab: str | None = None                              # the tab to open: the URL's, else the default
    values: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)    # "key=value (reason)", in the URL's order

    def warning(self, *, escape: bool = True) -> str | None:
        """One sentence naming what was left out: at most WARNING_ITEMS of them, each short; escaped for
        HTML unless `escape` is False (for a plain-text box). A link's keys and values are anybody's words."""
        if not self.ignored:
            return None
        named = [html.escape(item) if escape else item for item in self.ignored[:WARNING_ITEMS]]
        more = len(self.ignored) - len(named)
        tail = f"; and {more} more" if more else ""
        return "This lesson link's " + ("setting was" if len(self.ignored) == 1 else "settings were") + \
            " not applied: " + "; ".join(named) + tail + "."


# Checking ------------------------------------------------------------------------------------

def _number_rule(setting: Setting) -> str:
    kind = "a whole number" if setting.integer else "a number"
    if setting.minimum is not None and setting.maximum is not None:
        return f"must be {kind} from {_show(setting.minimum)} to {_show(setting.maximum)}"
    if setting.minimum is not None:
        return f"must be {kind} of at least {_show(setting.minimum)}"
    if setting.maximum is not None:
        return f"must be {kind} of at most {_show(setting.maximum)}"
    return f"must be {kind}"


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def check_value(setting: Setting, text: str):
    """A URL's text for one setting -> the control's value; ValueError (saying what is allowed) if it does not fit."""
    if setting.kind == "number":
        if text.strip() == "" and setting.optional:
            return None
        try:
            number = float(text)
        except ValueError:
            raise ValueError(_number_rule(setting)) from None
        if not math.isfinite(number) or (setting.integer and not number.is_integer()):
            raise ValueError(_number_rule(setting))
        if (setting.minimum is not None and number < setting.minimum) or \
                (setting.maximum is not None and number > setting.maximum):
            raise ValueError(_number_rule(setting))
        return int(number) if setting.integer else number
    if setting.kind == "choice":
        if text not in setting.choices:
            raise ValueError("must be one of " + ", ".join(map(str, setting.choices)))
        return text
    if setting.kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("must be true or false")
    if setting.kind == "text":
        if setting.max_length is not None and len(text) > setting.max_length:
            raise ValueError(f"must be at most {setting.max_length} characters")
        return text
    raise ValueError(f"cannot be set from a link (a {setting.kind} control)")


def _ours(key: str) -> bool:
    return key not in GRADIO_KEYS and not key.startswith("__")


def _quoted(key: str, text: str, limit: int = 40) -> str:
    key = key if len(key) <= KEY_LIMIT else key[:KEY_LIMIT] + "…"
    text = text if len(text) <= limit else text[:limit] + "…"
    return f"{key}={text}"


def parse(query: Mapping[str, str], tabs: Mapping[str, Mapping[str, Setting]],
          default_tab: str | None = None) -> LessonLink:
    """Check a URL query against the tabs' settings.

    `tabs` maps each tab id to its settings by name. Settings apply to the tab that opens: the one
    `tab` names, else `default_tab` (the first tab, open when the URL names none).
    """
    link = LessonLink(tab=default_tab if default_tab is not None else next(iter(tabs), None))
    query = {key: value for key, value in query.items() if _ours(key)}
    if TAB_KEY in query:
        if query[TAB_KEY] in tabs:
            link.tab = query[TAB_KEY]
        else:
            link.ignored.append(f"{_quoted(TAB_KEY, query[TAB_KEY])} (the tabs are {', '.join(tabs)})")
    settings = tabs.get(link.tab, {})
    for key, text in query.items():
        if key == TAB_KEY:
            continue
        if key not in settings:
            link.ignored.append(f"{_quoted(key, text)} (not a setting of this tab)")
            continue
        try:
            link.values[key] = check_value(settings[key], text)
        except ValueError as error:
            link.ignored.append(f"{_quoted(key, text)} ({error})")
    return link


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def query_string(tab: str, values: Mapping[str, Any], settings: Mapping[str, Setting]) -> str:
    """The query of a link to `tab` with `values`: only settings that differ from the page's own, in the
    tab's order. The browser builds the same string in `_LINK_JS` as the user changes things."""
    changed = [(name, _text(values[name])) for name, setting in settings.items()
               if name in values and _text(values[name]) != _text(setting.default)]
    return urlencode([(TAB_KEY, tab), *changed])


# Reading the controls ------------------------------------------------------------------------

def setting_for(component) -> Setting | None:
    """What a Gradio control accepts; None for a control a link cannot set (an image, say)."""
    import gradio as gr

    default = component.value
    if isinstance(component, gr.Checkbox):
        return Setting("bool", default=default)
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        if getattr(component, "multiselect", False):
            return None
        values = tuple(choice[1] if isinstance(choice, (tuple, list)) else choice
                       for choice in component.choices or [])
        return Setting("choice", default=default, choices=values)
    if isinstance(component, gr.Slider):
        step = component.step or 1
        whole = float(step).is_integer() and float(component.minimum).is_integer()
        return Setting("number", default=default, minimum=component.minimum, maximum=component.maximum,
                       integer=whole)
    if isinstance(component, gr.Number):
        return Setting("number", default=default, minimum=component.minimum, maximum=component.maximum,
                       integer=component.precision == 0, optional=True)
    if isinstance(component, gr.Textbox):
        return Setting("text", default=default or "", max_length=component.max_length)
    return None


def settings_of(controls: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Setting]]:
    """{tab id: {name: component}} -> {tab id: {name: Setting}}, leaving out controls a link cannot set."""
    return {tab: {name: setting for name, component in components.items()
                  if (setting := setting_for(component)) is not None}
            for tab, components in controls.items()}


# Wiring --------------------------------------------------------------------------------------

# Runs in the browser: the tab's values -> the lesson link; the address bar follows (its other
# parameters, Gradio's own, kept). Arguments: the settings' values in the order of `names`, then the
# link box's. Until the page load has read the URL, it changes nothing: controls fire their change
# events as the page is built, and the load reads the link from the address bar.
_LINK_JS = """
(...values) => {
  const config = %s;
  if (!window.genartLessonLinkRead) return values[values.length - 1];
  const text = (v) => (v === null || v === undefined ? "" : String(v));
  const ours = new URLSearchParams();
  ours.set("tab", config.tab);
  config.names.forEach((name, i) => {
    if (text(values[i]) !== text(config.defaults[i])) ours.set(name, text(values[i]));
  });
  const address = new URLSearchParams();  // Gradio's own parameters (a theme, the API page) stay
  for (const [key, value] of new URLSearchParams(window.location.search)) {
    if (config.gradio.includes(key) || key.startsWith("__")) address.append(key, value);
  }
  for (const [key, value] of ours) address.set(key, value);
  window.history.replaceState(window.history.state, "", window.location.pathname + "?" + address.toString()
                              + window.location.hash);
  return window.location.origin + window.location.pathname + "?" + ours.toString();
}
"""

# After the page load: the link box holds the checked query; show it as a full link, and put it in
# the address bar in place of what was asked (so what was not applied drops out of the URL too).
_LOADED_JS = """
(query) => {
  const gradio = %s;
  window.genartLessonLinkRead = true;
  if (!query) return window.location.origin + window.location.pathname;
  const address = new URLSearchParams();
  for (const [key, value] of new URLSearchParams(window.location.search)) {
    if (gradio.includes(key) || key.startsWith("__")) address.append(key, value);
  }
  for (const [key, value] of new URLSearchParams(query)) address.set(key, value);
  window.history.replaceState(window.history.state, "", window.location.pathname + "?" + address.toString()
                              + window.location.hash);
  return window.location.origin + window.location.pathname + "?" + query;
}
"""


def _tab_of(component):
    import gradio as gr

    block = component
    while block is not None and not isinstance(block, gr.Tab):
        block = block.parent
    return block


def _json(value):
    try:
        return json.loads(json.dumps(value))
    except TypeError:
        return None


def attach(demo, tabs_block, tabs: Mapping[str, Any], link_box, notice) -> None:
    """Wire lesson links into a built page; call it inside `with demo:`.

    `tabs_block` is the gr.Tabs, `tabs` {tab id: the tab's settings (ui/settings_flow.TabSettings)}
    (each tab's gr.Tab has that id), `link_box` the textbox that shows the link, `notice` a plain-text box
    that names what a link could not apply (the page load runs outside the queue, where no toast reaches
    the page; and plain text shows a link's words as they are, never as HTML or Markdown). A link's values reach
    its tab the way a recipe's do (`TabSettings.apply`): the tab's cascades keep them. None of these
    events is an API endpoint or waits in the "gpu" queue: the page load's is a cheap check, the rest
    run in the browser.
    """
    import gradio as gr

    controls = {tab: dict(tab_settings.controls) for tab, tab_settings in tabs.items()}
    settings = settings_of(controls)
    default_tab = next(iter(controls))
    order = [(tab, name) for tab in settings for name in settings[tab]]
    pendings = [tabs[tab].pending for tab in tabs]
    outputs = [tabs_block, *(controls[tab][name] for tab, name in order), link_box, notice, *pendings]

    def open_link(request: gr.Request):
        query = {key: value for key, value in (request.query_params.items() if request else []) if _ours(key)}
        if not query:  # a plain visit: the page as it is
            return [gr.update()] * (len(outputs) - 2 - len(pendings)) + ["", gr.update()] + [gr.update()] * len(pendings)
        link = parse(query, settings, default_tab)
        message = link.warning(escape=False)
        page = {name: setting.default for name, setting in settings[link.tab].items()}
        updates, pending = tabs[link.tab].apply(link.values, page)
        shown = page | link.values
        return [gr.Tabs(selected=link.tab),
                *(updates.get(name, gr.update()) if tab == link.tab else gr.update() for tab, name in order),
                query_string(link.tab, shown, settings[link.tab]),
                gr.update(value=message or "", visible=message is not None),
                *(pending if tab == link.tab else gr.update() for tab in tabs)]

    private = {"api_visibility": "private", "show_progress": "hidden"}
    # Outside the queue: a page loads, and its link applies, even while the model queue is full.
    demo.load(open_link, None, outputs, queue=False, **private
              ).then(None, link_box, link_box, js=_LOADED_JS % json.dumps(sorted(GRADIO_KEYS)), queue=False, **private)

    for tab_id, tab_settings in settings.items():
        components = [controls[tab_id][name] for name in tab_settings]
        js = _LINK_JS % json.dumps({"tab": tab_id, "names": list(tab_settings), "gradio": sorted(GRADIO_KEYS),
                                    "defaults": [_json(s.default) for s in tab_settings.values()]})
        tab = _tab_of(components[0]) if components else None
        if tab is not None:
            tab.select(None, [*components, link_box], link_box, js=js, queue=False, **private)
        for component in components:
            component.change(None, [*components, link_box], link_box, js=js, queue=False, **private)
