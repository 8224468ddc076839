"""Style transfer, live: `on_step` in the adapter, and the tab's generator that streams it."""

import threading
import time

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import genart_playground as gp
from genart_playground import serving, style_transfer
from genart_playground.results import StyleTransferResult
from genart_playground.ui import gradio_internals, tab_style_transfer, zero_gpu

from pictures import house, stripes
from runs import RUN


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


@pytest.fixture(autouse=True)
def stream_at_once(monkeypatch):
    """These runs are short; the tab streams only runs longer than STREAM_AFTER_S."""
    monkeypatch.setattr(tab_style_transfer, "STREAM_AFTER_S", 0.0)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("style-progress")
    content, style = folder / "content.png", folder / "style.png"
    house(48, 40).save(content)
    stripes().save(style)
    return str(content), str(style)


# --- the adapter's on_step ----------------------------------------------------------------------

@pytest.mark.parametrize("preserve_color", [False, True])
def test_on_step_hands_over_growing_losses_and_the_intermediates_in_order(preserve_color):
    calls = []
    result = style_transfer(house(48, 40), stripes(), steps=10, size=48, seed=1, preserve_color=preserve_color,
                            on_step=lambda step, losses, image: calls.append((step, losses, image)))
    assert [step for step, _, _ in calls] == list(range(11))  # step 0 (the start), then every step
    for step, losses, _ in calls:
        assert set(losses) == {"content", "style", "total"}
        assert all(len(values) == step for values in losses.values())
    # The lists are copies that grow: each one is the start of the final losses.
    for key, values in result.losses.items():
        assert all(losses[key] == values[:step] for step, losses, _ in calls)
    images = [image for _, _, image in calls if image is not None]
    assert calls[0][2] is not None and calls[-1][2] is not None  # the start and the result
    assert len(images) == len(result.intermediates)
    for streamed, kept in zip(images, result.intermediates, strict=True):
        assert np.array_equal(_pixels(streamed), _pixels(kept))
    assert np.array_equal(_pixels(images[-1]), _pixels(result.images[0]))


def test_on_step_changes_nothing_in_the_result():
    plain = style_transfer(house(48, 40), stripes(), steps=6, size=48, seed=2)
    watched = style_transfer(house(48, 40), stripes(), steps=6, size=48, seed=2, on_step=lambda *args: None)
    assert np.array_equal(_pixels(plain.images[0]), _pixels(watched.images[0]))
    assert plain.losses == watched.losses


def test_a_bad_on_step_is_refused():
    with pytest.raises(ValueError, match=r"^`on_step` must be a callable\(step, losses, image\) or None, got int\.$"):
        style_transfer(house(48, 40), stripes(), steps=2, size=48, on_step=3)


def test_an_exception_in_on_step_stops_the_run():
    steps = []

    def stop_at_three(step, losses, image):
        steps.append(step)
        if step == 3:
            raise serving.Cancelled("Cancelled.")

    with pytest.raises(serving.Cancelled):
        style_transfer(house(48, 40), stripes(), steps=20, size=48, on_step=stop_at_three)
    assert steps == [0, 1, 2, 3]


def test_img2img_streams_decoded_previews(tiny_t2i):
    calls = []
    result = style_transfer(house(32, 32), "a red circle", model=tiny_t2i, size=32, steps=10, strength=0.6,
                            on_step=lambda step, losses, image: calls.append((step, losses, image)))
    assert [step for step, _, _ in calls] == list(range(1, 7))  # int(10 × 0.6) denoising steps
    assert all(losses == {} for _, losses, _ in calls)
    previews = [image for _, _, image in calls if image is not None]
    assert 1 <= len(previews) <= 5 and calls[-1][2] is not None
    assert all(image.size == result.images[0].size for image in previews)
    assert result.intermediates == []  # the result is as before


# --- the tab's generator ------------------------------------------------------------------------

def test_the_handler_yields_partial_updates_before_the_final_outputs(pictures):
    content, style = pictures
    outputs = list(tab_style_transfer.stylise(RUN["style_transfer"], content, style, "", "gatys", "builtin/random-filters", 10, 48, 0.5,
                                              0, False))
    *partial, final = outputs
    assert partial, "no update before the final one"
    for update in partial:
        assert len(update) == 4
        assert update[0] == gr.skip() and update[3] == gr.skip()  # the result and recipe come at the end
    # The gallery grows one snapshot at a time, the plot with the steps.
    galleries = [len(update[2]) for update in partial]
    assert galleries == sorted(galleries) and galleries[0] == 1
    plots = [update[1] for update in partial if isinstance(update[1], pd.DataFrame)]
    assert plots and len(plots[-1]) <= 3 * 10
    image, losses, intermediates, metadata = final
    assert isinstance(image, str) and Image.open(image).format == "PNG"
    assert len(losses) == 3 * 10 and set(losses["kind"]) == {"content", "style", "total"}
    assert len(intermediates) == galleries[-1] and metadata["steps"] == 10


def test_errors_in_the_worker_reach_the_user_as_gr_error(pictures):
    content, style = pictures
    with pytest.raises(gr.Error, match="`size` must be between"):
        list(tab_style_transfer.stylise(RUN["style_transfer"], content, style, "", "gatys", "builtin/random-filters", 10, 16, 0.5, 0,
                                        False))


def test_a_cancel_stops_the_worker(pictures, monkeypatch):
    content, style = pictures
    asked = []

    def cancelled_after_five_reports():
        return lambda: (asked.append(1), len(asked) > 5)[1]

    monkeypatch.setattr(gradio_internals, "cancellation_check", cancelled_after_five_reports)
    with pytest.raises(gr.Error, match="Cancelled"):
        list(tab_style_transfer.stylise(RUN["style_transfer"], content, style, "", "gatys", "builtin/random-filters", 200, 48, 0.5, 0,
                                        False))
    assert len(asked) == 6  # the sixth report raised: the optimisation did not run on


def test_closing_the_generator_stops_the_worker(monkeypatch):
    steps, done = [], threading.Event()

    def slow_adapter(content, style, *, on_step, progress, **options):
        try:
            for step in range(1000):
                steps.append(step)
                on_step(step, {"content": [1.0] * step, "style": [1.0] * step, "total": [1.0] * step},
                        Image.new("RGB", (8, 8)) if step == 0 else None)
                time.sleep(0.005)
            return StyleTransferResult(images=[Image.new("RGB", (8, 8))], metadata={})
        finally:
            done.set()

    monkeypatch.setattr(gp, "style_transfer", slow_adapter)
    handler = tab_style_transfer.stylise(RUN["style_transfer"], None, None, "a style", "img2img", None, 10, 32, 0.5, 0, False)
    next(handler)  # the first partial update
    handler.close()  # what Gradio does when the event ends early
    assert done.wait(5), "the worker ran on after the generator was closed"
    assert len(steps) < 1000


def test_the_gpu_decorator_keeps_a_generator_a_generator(monkeypatch):
    import inspect

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def handler():
        yield 1

    assert inspect.isgeneratorfunction(zero_gpu.gpu(lambda: 10)(handler))
    assert inspect.isgeneratorfunction(tab_style_transfer.stylise)  # so Gradio streams its updates


# --- through the served app ---------------------------------------------------------------------

def test_the_api_streams_updates_and_returns_the_final_outputs(api_client, pictures, no_network_attempts):
    from gradio_client import handle_file

    content, style = pictures
    job = api_client.submit(handle_file(content), handle_file(style), "", "gatys", "builtin/random-filters", 10, 48,
                            0.5, 0, False, api_name="/style_transfer")
    image, losses, intermediates, metadata = job.result(timeout=60)
    assert Image.open(image).size == (48, 40) and metadata["steps"] == 10
    assert losses is not None and len(intermediates) >= 3
    assert len(job.outputs()) >= 2  # partial updates reached the client before the final outputs


def test_img2img_previews_stay_in_the_gallery(tiny_t2i, pictures):
    content, _ = pictures
    *partial, final = tab_style_transfer.stylise(RUN["style_transfer"], content, None, "a red circle", "img2img", tiny_t2i, 10, 32, 0.6,
                                                 0, False)
    previews = [update[2] for update in partial if update[2]]
    assert previews and final[2] == previews[-1]  # the result has none of its own: the streamed ones stay
    assert final[1] is None and final[3]["method"] == "img2img"


def _style_workers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "style-transfer" and thread.is_alive()]


def test_cancelling_through_the_api_stops_the_worker(api_client, pictures):
    from gradio_client import handle_file

    content, style = pictures
    job = api_client.submit(handle_file(content), handle_file(style), "", "gatys", "builtin/random-filters", 1000, 256,
                            0.5, 0, False, api_name="/style_transfer")
    deadline = time.monotonic() + 30
    while not job.outputs() and time.monotonic() < deadline:  # running, and streaming
        time.sleep(0.05)
    assert job.outputs() and _style_workers()
    job.cancel()
    deadline = time.monotonic() + 10
    while _style_workers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _style_workers(), "the optimisation ran on after the cancel"


def test_a_short_run_just_finishes_without_partial_updates(pictures, monkeypatch):
    monkeypatch.setattr(tab_style_transfer, "STREAM_AFTER_S", 60.0)
    content, style = pictures
    outputs = list(tab_style_transfer.stylise(RUN["style_transfer"], content, style, "", "gatys", None, 4, 48, 0.6, 0, False))
    assert len(outputs) == 1
    image, losses, intermediates, metadata = outputs[0]
    assert metadata["steps"] == 4 and len(losses) > 0 and intermediates
