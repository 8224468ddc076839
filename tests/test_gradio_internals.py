"""Each private Gradio API the app uses (ui/gradio_internals.py), pinned: these fail on a Gradio
version where it no longer holds. And the bug the sweep's own pass fixes: a request waiting in the
queue never loses its upload, however long it waits."""

import inspect
import time

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from genart_playground.ui import gradio_internals, lanes, output_files  # noqa: F401  (output_files installs the sweep)
from genart_playground.ui.request_limits import visitor_of


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


def test_gradio_reads_an_events_inputs_through_the_blocks_preprocess_data():
    """explain_unreadable_inputs wraps Blocks.preprocess_data on the app: the coroutine process_api awaits
    with the event and its raw inputs, before any control's preprocess."""
    import inspect

    import gradio as gr

    assert inspect.iscoroutinefunction(gr.Blocks.preprocess_data)
    assert list(inspect.signature(gr.Blocks.preprocess_data).parameters)[:3] == ["self", "block_fn", "inputs"]
    assert "self.preprocess_data(" in inspect.getsource(gr.Blocks.process_api)


def test_the_queue_keeps_its_sessions_where_session_known_reads_them():
    with gr.Blocks() as demo:
        gr.Button().click(lambda: None)
    demo.queue()
    assert isinstance(demo._queue.pending_messages_per_session, dict)
    assert not gradio_internals.session_known(demo, "nobody")
    demo._queue.pending_messages_per_session["somebody"] = object()
    assert gradio_internals.session_known(demo, "somebody")


def test_uvicorns_protocol_has_what_limit_header_time_wraps():
    """limit_header_time arms a timer in H11Protocol.connection_made and on_response_complete and reads
    `cycle` (None until a request's headers are in, a new one for each request), `transport` and `loop`."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    source = inspect.getsource(H11Protocol)
    assert "def connection_made(" in source and "def on_response_complete(" in source
    assert "self.cycle: RequestResponseCycle = None" in source or "self.cycle = None" in source
    assert "self.cycle = RequestResponseCycle(" in source and "self.loop = " in source


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

    def both_queued() -> bool:  # an upload not yet in the queue is in no event's inputs: the sweep may take it
        return gradio_internals.jobs_of(served_app, "127.0.0.1", lanes.MODEL_LANES, visitor_of) >= 2

    deadline = time.monotonic() + 60
    while not (both_queued() or waiting.done()) and time.monotonic() < deadline:
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


# The drawing canvas (hold_drawings) --------------------------------------------------------------

def _editor():
    from genart_playground.ui.image_input import drawing_canvas

    return drawing_canvas(paper=Image.new("RGB", (8, 8), (245, 245, 245)), colours={"red": (220, 40, 40)}, size=64)


def _blob(key: str, kind: str = "composite", data: bytes = b"png bytes"):
    from gradio.data_classes import DataWithFiles

    return DataWithFiles(data={"id": key, "type": kind, "index": None}, files=[(f"{kind}.png", data)])


def test_the_editor_keeps_pictures_sent_to_accept_blobs_and_reads_them_back_by_id():
    """What hold_drawings replaces: Gradio's editor has the `accept_blobs` server function (its page's
    code calls it by that name), keeps the pictures in `blob_storage` by id, and its payload names that id."""
    from pathlib import Path

    from gradio.components.image_editor import EditorData, ImageEditor

    assert getattr(ImageEditor.accept_blobs, "_is_server_fn", False)
    assert "self.blob_storage[id] = current" in inspect.getsource(ImageEditor.accept_blobs)
    assert {"id", "composite", "background"} <= set(EditorData.model_fields)
    frontend = Path(gr.__file__).parent / "templates" / "frontend" / "assets"
    assert any("accept_blobs" in path.read_text(errors="ignore") for path in frontend.glob("Index-*.js"))
    editor = _editor()
    assert [fn.__name__ for fn in editor.server_fns] == ["accept_blobs"]
    assert editor.get_config()["server_fns"] == ["accept_blobs"]


def test_drawings_are_held_within_limits_and_read_without_being_removed():
    from genart_playground import limits
    from gradio.components.image_editor import EditorData

    editor = _editor()
    editor.accept_blobs(_blob("a", "background", b"ignored"))  # never read: not kept
    assert len(editor.blob_storage) == 0
    editor.accept_blobs(_blob("a"))
    payload = EditorData(id="a")
    assert editor.preprocess(payload) == b"png bytes" and editor.preprocess(payload) == b"png bytes"
    with pytest.raises(ValueError, match="at most 2 MB"):
        editor.accept_blobs(_blob("b", data=b"x" * (limits.MAX_DRAWING_BYTES + 1)))
    with pytest.raises(ValueError, match="1 to 64 characters"):
        editor.accept_blobs(_blob("x" * 65))
    for i in range(limits.MAX_DRAWINGS_HELD + 5):
        editor.accept_blobs(_blob(f"page-{i}"))
    assert len(editor.blob_storage) == limits.MAX_DRAWINGS_HELD and "a" not in editor.blob_storage
    with pytest.raises(gr.Error, match="did not reach the server"):
        editor.preprocess(EditorData(id="a"))


def test_a_drawing_sent_as_a_path_must_be_an_upload():
    editor = _editor()
    payload = editor.data_model.model_validate({"composite": {"path": "/etc/passwd"}, "layers": []})
    with pytest.raises(gr.Error, match="Upload the file to this app first"):
        editor.preprocess(payload)
