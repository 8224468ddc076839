"""Each private Gradio API the app uses (ui/gradio_internals.py), pinned: these fail on a Gradio
version where it no longer holds. And the bug the sweep's own pass fixes: a request waiting in the
queue never loses its upload, however long it waits."""

import inspect
import time

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from genart_playground.ui import common, gradio_internals  # noqa: F401  (common installs the sweep)


def test_the_event_id_and_the_task_name_gradio_uses():
    from gradio import utils
    from gradio.context import LocalContext

    assert LocalContext.event_id.get(None) is None  # a ContextVar, unset outside an event
    assert LocalContext.blocks.get(None) is None  # the running app, where running_event finds the queue
    assert gradio_internals.TASK_NAME_SEPARATOR in inspect.getsource(utils.set_task_name)


def test_the_sweep_gradio_calls_by_name_is_ours():
    from gradio import route_utils

    assert route_utils.delete_files_created_by_app is gradio_internals.delete_files_created_by_app
    # Gradio's scheduler looks the pass up by name at every run, so replacing it takes effect.
    assert "delete_files_created_by_app" in route_utils.delete_files_on_schedule.__code__.co_names


def test_the_queue_keeps_its_events_where_files_in_use_reads_them():
    from gradio.queueing import Event, EventQueue, Queue

    assert "event_queue_per_concurrency_id" in inspect.getsource(Queue.__init__)
    assert "active_jobs" in inspect.getsource(Queue.__init__)
    assert "self.queue" in inspect.getsource(EventQueue.__init__)
    assert "self.data" in inspect.getsource(Event.__init__) and "self.alive" in inspect.getsource(Event.__init__)
    # A client that closes its stream: Gradio marks its running job not alive (the app's cancel check reads it).
    assert "job.alive = False" in inspect.getsource(Queue.clean_events)


def test_blocks_keep_their_temporary_files_in_sets():
    with gr.Blocks() as demo:
        gr.Image()
    assert isinstance(demo.temp_file_sets, list) and demo.upload_file_set in demo.temp_file_sets


def test_a_replaced_preprocess_is_the_one_gradio_calls():
    image = gradio_internals.replace_preprocess(gr.Image(type="filepath"), lambda payload: "mine")
    assert image.preprocess(None) == "mine"


def test_files_named_by_waiting_events_are_spared(tmp_path):
    from types import SimpleNamespace

    waiting, running, old = (tmp_path / name for name in ("waiting.png", "running.png", "old.png"))
    for path in (waiting, running, old):
        path.write_bytes(b"x")
    event = lambda path: SimpleNamespace(data=SimpleNamespace(data=[{"path": str(path), "meta": {}}, 3]))  # noqa: E731
    queue = SimpleNamespace(event_queue_per_concurrency_id={"gpu": SimpleNamespace(queue=[event(waiting)])},
                            active_jobs=[None, [event(running)]])
    blocks = SimpleNamespace(_queue=queue, blocks={}, temp_file_sets=[{str(waiting), str(running), str(old)}])
    time.sleep(0.01)
    gradio_internals.delete_files_created_by_app(blocks, 0)
    assert waiting.exists() and running.exists() and not old.exists()


def test_an_upload_waiting_behind_slow_work_survives_the_sweep(served_app, api_client, tiny_vae, tmp_path):
    """The soak test's lost requests: the sweep ran while an upload waited its turn in the queue."""
    from gradio_client import handle_file

    picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    content = str(tmp_path / "waiting-content.png")
    picture.save(content)
    slow = api_client.submit(handle_file(content), handle_file(content), "", "gatys", "builtin/random-filters",
                             300, 64, 0.5, 0, False, api_name="/style_transfer")
    waiting = api_client.submit(handle_file(content), tiny_vae, 0.0, 0, api_name="/vae_reconstruction")
    deadline = time.monotonic() + 60
    while not gradio_internals.files_in_use(served_app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gradio_internals.files_in_use(served_app), "the requests never reached the queue"
    gradio_internals.delete_files_created_by_app(served_app, 0)  # every file is older than 0 s
    slow.result(timeout=120)
    recon, *_ = waiting.result(timeout=120)
    assert Image.open(recon).size == (32, 32)


def test_a_file_components_data_model_is_what_gradio_validates_with():
    from gradio import blocks

    box = gradio_internals.accept_bare_paths(gr.File(type="filepath"))
    assert "block.data_model" in inspect.getsource(blocks.Blocks.preprocess_data)
    assert box.data_model.model_validate({"path": "/x.png"}, context={"validate_meta": True}).path == "/x.png"
    with pytest.raises(Exception, match="meta"):  # Gradio's own model refuses it, and the client sees error: null
        gr.File(type="filepath").data_model.model_validate({"path": "/x.png"}, context={"validate_meta": True})


def test_only_files_in_the_upload_folder_pass(tmp_path):
    inside = gradio_internals.upload_folder() / "genart-test-inside.txt"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_text("x")
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    try:
        assert gradio_internals.check_uploaded(inside) == str(inside.resolve())
        for path in (outside, "/etc/passwd", inside.parent / ".." / "etc" / "passwd", "/no/such/file"):
            with pytest.raises(ValueError) as error:
                gradio_internals.check_uploaded(path)
            assert str(error.value) == gradio_internals.NOT_UPLOADED
    finally:
        inside.unlink()


def test_a_validator_that_cannot_read_an_input_hands_it_to_the_event():
    """Gradio's push runs the validator first (on preprocessed inputs) and refuses a failure there as a bare
    "error"; the app's wrapper then pushes the request again without the validator."""
    from gradio import queueing

    source = inspect.getsource(queueing.Queue)
    assert "create_validator_fn(fn)" in source and '"error"' in source and "fn.validator is not None" in source
    gradio_internals.defer_malformed_input_to_the_event()
    gradio_internals.defer_malformed_input_to_the_event()  # once, however often it is called
    assert queueing.Queue.push._genart_deferring is True


def test_gallery_styles_name_the_classes_gradio_draws_with():
    from pathlib import Path

    styles = "".join(path.read_text(errors="ignore") for path in
                     (Path(gr.__file__).parent / "templates" / "frontend" / "assets").glob("Gallery*.css"))
    for name in ("grid-container", "thumbnail-item", "caption-label", "--grid-cols"):
        assert name in styles and name in gradio_internals.GALLERY_CSS
