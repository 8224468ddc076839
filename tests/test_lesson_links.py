"""Lesson links: a URL's query checked against the tabs' settings, and the page wired to it."""

from urllib.parse import parse_qsl

import pytest

from genart_playground import families
from genart_playground.ui.lesson_links import LessonLink, Setting, check_value, parse, query_string

TABS = {
    "text_to_image": {"prompt": Setting("text", default="a red circle", max_length=20),
                      "steps": Setting("number", default=None, minimum=0, maximum=100, integer=True, optional=True),
                      "guidance": Setting("number", default=7.5, minimum=0, maximum=20)},
    "gan_interpolation": {"seed_a": Setting("number", default=0, minimum=0, maximum=2**32 - 1, integer=True,
                                            optional=True),
                          "seed_b": Setting("number", default=1, minimum=0, maximum=2**32 - 1, integer=True,
                                            optional=True),
                          "frames": Setting("number", default=16, minimum=2, maximum=128, integer=True),
                          "method": Setting("choice", default="slerp", choices=("slerp", "lerp")),
                          "truncation": Setting("number", default=1.0, minimum=0.05, maximum=1.0)},
    "style_transfer": {"preserve_color": Setting("bool", default=False)},
}


def test_good_values_fill_the_named_tab():
    link = parse({"tab": "gan_interpolation", "seed_a": "3", "seed_b": "9", "method": "lerp", "frames": "24",
                  "truncation": "0.7"}, TABS)
    assert link == LessonLink(tab="gan_interpolation",
                              values={"seed_a": 3, "seed_b": 9, "method": "lerp", "frames": 24, "truncation": 0.7})
    assert isinstance(link.values["seed_a"], int) and link.warning() is None


@pytest.mark.parametrize("key, text, reason", [
    ("frames", "200", "from 2 to 128"),        # above the slider's maximum
    ("frames", "1", "from 2 to 128"),          # below its minimum
    ("frames", "2.5", "whole number"),         # a slider with a whole step
    ("seed_a", "-1", "from 0"),
    ("seed_a", "abc", "whole number"),
    ("seed_a", "nan", "whole number"),
    ("truncation", "inf", "number from 0.05 to 1"),
    ("method", "spline", "one of slerp, lerp"),
    ("frames", "", "from 2 to 128"),           # a slider cannot be empty
])
def test_a_bad_value_is_ignored_and_reported(key, text, reason):
    link = parse({"tab": "gan_interpolation", "seed_b": "9", key: text}, TABS)
    assert link.tab == "gan_interpolation"
    assert link.values == {"seed_b": 9}        # the good value is still filled in
    assert len(link.ignored) == 1 and link.ignored[0].startswith(f"{key}={text} (") and reason in link.ignored[0]
    assert reason in link.warning()


def test_unknown_keys_are_ignored_and_reported_in_one_warning():
    link = parse({"tab": "gan_interpolation", "seed_a": "5", "colour": "red", "prompt": "a cat"}, TABS)
    assert link.values == {"seed_a": 5}
    assert [entry.split(" ")[0] for entry in link.ignored] == ["colour=red", "prompt=a"]
    assert all("not a setting of this tab" in entry for entry in link.ignored)  # prompt is another tab's
    assert link.warning().count("not a setting") == 2 and "settings were not applied" in link.warning()


def test_tab_selection():
    assert parse({"tab": "style_transfer"}, TABS).tab == "style_transfer"
    # No tab: the first (default) tab opens, and settings apply to it.
    link = parse({"steps": "5"}, TABS, default_tab="text_to_image")
    assert (link.tab, link.values, link.ignored) == ("text_to_image", {"steps": 5}, [])
    # An unknown tab is reported; the default tab opens.
    link = parse({"tab": "painting", "seed_a": "3"}, TABS, default_tab="text_to_image")
    assert link.tab == "text_to_image" and link.values == {}
    assert link.ignored[0].startswith("tab=painting (the tabs are text_to_image, gan_interpolation")
    assert "seed_a=3 (not a setting of this tab)" in link.ignored


def test_gradio_own_parameters_are_left_alone():
    link = parse({"__theme": "dark", "view": "api", "tab": "gan_interpolation"}, TABS)
    assert link == LessonLink(tab="gan_interpolation")


def test_each_kind_of_setting():
    number = TABS["text_to_image"]["steps"]
    assert check_value(number, "") is None     # an empty number box: the model's own setting
    assert check_value(number, "12.0") == 12
    with pytest.raises(ValueError, match="whole number from 0 to 100"):
        check_value(number, "101")
    boolean = TABS["style_transfer"]["preserve_color"]
    assert [check_value(boolean, t) for t in ("true", "1", "Yes", "false", "0", "off")] == [True] * 3 + [False] * 3
    with pytest.raises(ValueError, match="true or false"):
        check_value(boolean, "maybe")
    text = TABS["text_to_image"]["prompt"]
    assert check_value(text, "a blue square") == "a blue square"
    with pytest.raises(ValueError, match="at most 20 characters"):
        check_value(text, "x" * 21)
    assert "…" in parse({"prompt": "x" * 100}, TABS).ignored[0]  # a long bad value is shortened in the warning


def test_query_string_holds_what_differs_and_parses_back():
    settings = TABS["gan_interpolation"]
    values = {"seed_a": 3, "seed_b": 1, "frames": 24.0, "method": "lerp", "truncation": 1.0}
    query = query_string("gan_interpolation", values, settings)
    assert query == "tab=gan_interpolation&seed_a=3&frames=24&method=lerp"
    assert parse(dict(parse_qsl(query)), TABS).values == {"seed_a": 3, "frames": 24, "method": "lerp"}
    prompt = query_string("text_to_image", {"prompt": "a red & blue"}, TABS["text_to_image"])
    assert parse(dict(parse_qsl(prompt)), TABS).values == {"prompt": "a red & blue"}


def test_settings_are_read_from_the_app_controls():
    from genart_playground.limits import MAX_FRAMES
    from genart_playground.ui import app, lesson_links

    captured = {}
    original = lesson_links.attach

    def spy(demo, tabs, tab_settings, link, notice):
        captured.update({tab: settings.controls for tab, settings in tab_settings.items()})
        return original(demo, tabs, tab_settings, link, notice)

    lesson_links.attach = spy
    try:
        app.build_demo()
    finally:
        lesson_links.attach = original
    settings = lesson_links.settings_of(captured)
    assert list(settings) == [family.id for family in families.FAMILIES if family.tab]
    lab = settings["evaluate"]
    assert "models" not in lab and lab["prompt_set"].choices == ("standard", "heldout", "typed")  # a list: no link
    gan = settings["gan_interpolation"]
    assert gan["frames"] == Setting("number", default=16, minimum=2, maximum=MAX_FRAMES, integer=True)
    assert gan["method"].choices == ("slerp", "lerp") and gan["seed_a"].integer
    assert gan["space"].choices == ("z", "w")
    assert settings["style_transfer"]["preserve_color"].kind == "bool"
    assert settings["text_to_image"]["prompt"].kind == "text"
    assert "model" in settings["vae_reconstruction"]
    assert settings["translate_image"]["direction"].choices == ("sketch_to_picture", "picture_to_sketch")


def test_link_events_are_private_and_outside_the_gpu_queue(served_app, api_client):
    ours = [fn for fn in served_app.fns.values()
            if fn.name in {"open_link", "put_back", "forget"} or "genartLessonLink" in (fn.js or "")]
    assert any(fn.name == "open_link" for fn in ours) and any(fn.js for fn in ours)
    from genart_playground.ui.lanes import MODEL_LANES

    assert all(fn.api_visibility == "private" and fn.concurrency_id not in MODEL_LANES for fn in ours)
    endpoints = api_client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert not any(word in name for name in endpoints for word in ("open_link", "put_back", "lambda"))


def test_the_page_load_and_the_settings_boxes_never_wait_in_the_queue(served_app):
    """While the queue is full, a page still loads with its link applied, and a model's settings still show."""
    light = [fn for fn in served_app.fns.values()
             if fn.name == "open_link" or getattr(fn.fn, "__name__", "") in ("handler", "_forget")]
    assert light and all(not fn.queue for fn in light)
