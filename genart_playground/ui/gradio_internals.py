"""Every use of a private Gradio API, in one place, each pinned by a test in tests/test_gradio_internals.py
that fails on a Gradio version where it no longer holds. Written against gradio 6.31.

- `event_task`: the asyncio task that runs an event (Gradio names it "...<gradio-sep><event id>"),
  found from the event id in `LocalContext`, to see a cancel while the handler's thread runs on.
- `delete_files_created_by_app`: Gradio's delete_cache pass (`route_utils`), replaced so that it
  iterates copies of `blocks.temp_file_sets`, spares the files queued requests are waiting with,
  removes partial uploads and keeps the whole under limits.MAX_CACHE_BYTES.
- `files_in_use`: the file paths in the data of the events waiting in, or running from, the queue.
- `replace_preprocess`: a component's `preprocess` swapped for the app's own.
- `defer_malformed_input_to_the_event`: `Queue.push` wrapped so that an input an event's validator cannot
  even read (Gradio preprocesses the inputs first) is not refused as a bare HTTP 400, but goes to the
  event, whose checks answer with the control's name and what is allowed.
- `hold_drawings`: gr.ImageEditor's `accept_blobs` server function (and its `blob_storage`) replaced by a
  bounded store of the one picture the app reads, its `preprocess` by one that hands that picture to
  the handler unopened, and its payload model by one that lets a path without `meta` reach that check.
- `explain_unreadable_inputs`: `Blocks.preprocess_data` wrapped on the app, so that what Gradio reads before
  any control (the count of inputs, files, their models) is refused with a message, never `error: null`.
- `session_known`: the queue's `pending_messages_per_session`, for /queue/data of an unknown session.
- `limit_header_time`: uvicorn's HTTP protocol (the server Gradio runs), given a deadline for a request's
  headers: it has none, and 1,500 sockets that never finished theirs stayed open.
- `GALLERY_CSS`: the class names of Gradio's gallery (`grid-container`, `thumbnail-item`, `caption-label`),
  styled so that no column is cut off and captions sit under their pictures (pinned by a browser test).

Replaced by public APIs since: walking `demo.fns` and adding listeners by hand (`EventListener(
trigger_after=...)`) to keep a lesson link's values through a tab's own events, and finding the
"Load settings" box by its label; settings now reach a tab one way (ui/settings_flow.py).
"""

import asyncio
import logging
import os
import time
from pathlib import Path

import anyio.from_thread
from gradio.context import LocalContext

logger = logging.getLogger(__name__)
TASK_NAME_SEPARATOR = "<gradio-sep>"  # gradio.utils.set_task_name


# Validators ----------------------------------------------------------------------------------

def defer_malformed_input_to_the_event() -> None:
    """The app's validators only say which required input is empty. Gradio runs a validator on the inputs
    as the event would get them, so a value it cannot read (a path it did not upload, a slider past its
    bound) fails there, and the client gets HTTP 400 with no message it shows. Such a request is pushed
    again without the validator: the event's own checks refuse it with a message. (A request for the same
    event pushed in that instant also skips the validator; the event still checks everything it reads.)"""
    from gradio import queueing, route_utils

    if getattr(queueing.Queue.push, "_genart_deferring", False):
        return
    original = queueing.Queue.push

    async def push(self, body, request, username):
        outcome = await original(self, body, request, username)
        if outcome[2] != "error" or body.fn_index is None:
            return outcome
        fn = route_utils.get_fn(self.blocks, None, body)
        if fn.validator is None:
            return outcome
        validator, fn.validator = fn.validator, None
        try:
            return await original(self, body, request, username)
        finally:
            fn.validator = validator
    push._genart_deferring = True
    queueing.Queue.push = push


# Page styles ---------------------------------------------------------------------------------

CAPTIONS_BELOW = "captions-below"  # a gallery whose captions are read, not glanced at

# Gradio's gallery gives each column at least 100 px: in half the page 6 columns overflow, and the last is
# cut off. Columns may shrink instead. Its captions float over the bottom of each picture; in a gallery
# marked CAPTIONS_BELOW they go under it, whole.
GALLERY_CSS = """
.grid-container { grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr)) !important;
                  grid-auto-rows: auto !important; }
.%(below)s .thumbnail-item { aspect-ratio: auto !important; height: auto !important; display: flex;
                             flex-direction: column; }
.%(below)s .thumbnail-item > img { aspect-ratio: 1; height: auto !important; }
.%(below)s .caption-label { position: static !important; max-width: 100% !important; white-space: normal !important;
                            border: none !important; opacity: 1 !important; text-align: center !important; }
""".replace("%(below)s", CAPTIONS_BELOW)


# Cancels ---------------------------------------------------------------------------------------

def current_event_id() -> str | None:
    return LocalContext.event_id.get(None)


def event_task(event_id: str):
    """The asyncio task running the event, looked up on the event loop; None if there is none."""
    suffix = f"{TASK_NAME_SEPARATOR}{event_id}"
    return next((task for task in asyncio.all_tasks() if task.get_name().endswith(suffix)), None)


def cancellation_check():
    """A callable saying whether the user has cancelled the Gradio event this thread runs.

    Gradio runs a handler in a worker thread under an asyncio task named after the event, and
    `/cancel` (the Stop button, or gradio_client's `job.cancel()`) cancels that task; but the
    thread runs on until it returns, holding its concurrency slot. So the thread looks its task
    up once, on the event loop, and then reads the task's cancel request at every step.
    """
    event_id = current_event_id()
    task, event = None, None
    if event_id:
        try:
            task = anyio.from_thread.run_sync(event_task, event_id)
        except RuntimeError:
            task = None  # not in one of Gradio's worker threads (a test calling the handler directly)
        event = running_event(event_id)

    def cancelled() -> bool:
        # A cancel (/cancel, the Stop button) cancels the task; an abandoned job (its client closed the
        # stream: a closed tab, a /queue/join nobody reads) is marked not alive by Gradio's clean_events.
        return (task is not None and task.cancelling() > 0) or (event is not None and not event.alive)
    return cancelled


def _events(blocks, *, waiting: bool = True) -> list:
    """Gradio's Events that run now (its active jobs) and, with `waiting`, those queued; each has `_id`,
    `data`, `request`, `concurrency_id` and `alive`. Lists are copied in one step each, under the GIL."""
    queue = getattr(blocks, "_queue", None)
    if queue is None:
        return []
    events = [event for job in list(queue.active_jobs) if job for event in list(job)]
    if waiting:
        events += [event for line in list(queue.event_queue_per_concurrency_id.values()) for event in list(line.queue)]
    return events


def session_known(blocks, session_hash: str) -> bool:
    """Whether the queue holds messages for this session: Gradio's /queue/data answers an unknown one by
    raising inside its stream, which logs a 5 KB traceback a request (queue.pending_messages_per_session)."""
    queue = getattr(blocks, "_queue", None)
    return queue is not None and session_hash in queue.pending_messages_per_session


def running_event(event_id: str):
    """Gradio's Event for a running job (it has `alive`), found among the queue's active jobs; None elsewhere."""
    return next((event for event in _events(LocalContext.blocks.get(None), waiting=False) if event._id == event_id),
                None)


def jobs_of(blocks, visitor: str, concurrency_ids: tuple[str, ...], visitor_of) -> int:
    """How many events of these concurrency ids (queue lanes) the visitor has waiting or running now;
    `visitor_of(headers, client)` says who sent a request."""

    def sender(event) -> str:
        request = getattr(event, "request", None)
        headers = {key.lower().encode(): value.encode() for key, value in getattr(request, "headers", {}).items()}
        client = getattr(request, "client", None)
        return visitor_of(headers, (client.host, client.port) if client else None)
    return sum(1 for event in _events(blocks) if event.concurrency_id in concurrency_ids and sender(event) == visitor)


# The temporary-file sweep --------------------------------------------------------------------------

def _paths(value, found: set[str]) -> None:
    if isinstance(value, dict):
        if isinstance(value.get("path"), str):
            found.add(value["path"])
        for item in value.values():
            _paths(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _paths(item, found)


def files_in_use(blocks) -> set[str]:
    """Paths named in the inputs of every event that waits in the queue or runs now."""
    found: set[str] = set()
    for event in _events(blocks):
        _paths(getattr(event.data, "data", None), found)
    return {str(Path(path)) for path in found}


def delete_files_created_by_app(blocks, age: int | None) -> None:
    """Gradio's `delete_cache` pass, iterating over copies of its file sets, sparing files in use.

    Gradio 6.31 iterates the live sets while requests add files to them; under load the pass
    raises "Set changed size during iteration", and since it runs in a `while True` task with no
    `try`, that ends the schedule: nothing is deleted again and the cache grows without bound
    (found by bench/load_test.py). And it deletes an upload by its age alone, so a request that
    waited in the queue longer than `age` lost its input ("No image file at ..."). Same rule
    otherwise: files older than `age`, kept ones kept.
    """
    kept = _kept(blocks)
    now = time.time()
    for files in list(blocks.temp_file_sets):
        for file in list(files):  # list() copies the set in one step, under the GIL
            if kept(file):
                continue
            try:
                if age is None or now - Path(file).lstat().st_ctime > age:
                    os.remove(file)
                    files.discard(file)
            except FileNotFoundError:
                files.discard(file)
    # Gradio runs this pass in a `while True` with no `try`: an error would end the schedule for good.
    for step in (lambda: _remove_partial_uploads(now, age), lambda: _keep_under_budget(blocks, kept)):
        try:
            step()
        except Exception:  # noqa: BLE001
            logger.exception("the temporary-file sweep skipped a step")


def _remove_partial_uploads(now: float, age: int | None) -> None:
    """Files left at the top of the upload folder: the upload route writes each file there while it
    arrives and moves it into a folder of its own once whole, so one still there past `age` is the
    remains of an upload cut off mid-body (Gradio removes them only on a parse error)."""
    folder = upload_folder()
    for path in list(folder.glob("*")) if folder.is_dir() else []:
        try:
            if path.is_file() and not path.is_symlink() and (age is None or now - path.lstat().st_mtime > age):
                path.unlink()
        except FileNotFoundError:
            pass


def _kept(blocks):
    """Whether a file must stay: a queued or running request names it, or a component keeps it (examples)."""
    keep = set(files_in_use(blocks))
    for component in list(blocks.blocks.values()):
        keep.update(getattr(component, "keep_in_cache", set()))
    return lambda file: file in keep or str(Path(file)) in keep


def make_room(blocks, incoming: int) -> bool:
    """Whether `incoming` more bytes fit under limits.MAX_CACHE_BYTES with what Gradio keeps, after the
    oldest files no request uses have gone to make room: the upload route asks before it writes a byte."""
    from .. import limits

    # A file Gradio has listed but not yet moved into place (the upload route's background task) stays listed.
    left = _keep_under_budget(blocks, _kept(blocks), limits.MAX_CACHE_BYTES - incoming, forget_missing=False)
    return left + incoming <= limits.MAX_CACHE_BYTES


def _keep_under_budget(blocks, kept, budget: int | None = None, *, forget_missing: bool = True) -> int:
    """The files Gradio keeps (uploads, outputs) over `budget` (limits.MAX_CACHE_BYTES) together: the oldest go
    first, except those a queued or running request uses. Returns the bytes left."""
    from .. import limits

    budget = limits.MAX_CACHE_BYTES if budget is None else budget
    files = []
    for file_set in list(blocks.temp_file_sets):
        for file in list(file_set):
            try:
                stat = Path(file).lstat()
            except FileNotFoundError:
                if forget_missing:
                    file_set.discard(file)
                continue
            files.append((stat.st_ctime, stat.st_size, file, file_set))
    total = sum(size for _, size, _, _ in files)
    for _, size, file, file_set in sorted(files, key=lambda entry: entry[0]):
        if total <= budget:
            break
        if kept(file):
            continue
        try:
            os.remove(file)
        except FileNotFoundError:
            pass
        file_set.discard(file)
        total -= size
    return total


def install_delete_pass():
    """Put `delete_files_created_by_app` in Gradio's place; returns Gradio's own (for the test that
    shows its bug). delete_files_on_schedule looks the function up by name at every pass."""
    from gradio import route_utils

    original = route_utils.delete_files_created_by_app
    if original is not delete_files_created_by_app:
        route_utils.delete_files_created_by_app = delete_files_created_by_app
    return original


# Uploads ------------------------------------------------------------------------------------------

NOT_UPLOADED = "Upload the file to this app first: only files sent through its upload route are read."


def upload_folder() -> Path:
    """Where Gradio keeps what its upload route wrote (and its cache of outputs and examples)."""
    from gradio import utils

    return Path(utils.get_upload_folder()).resolve()


def check_uploaded(path) -> str:
    """`path` if Gradio's upload route (or its own cache) wrote it; else one message that says nothing
    of the path: whether it exists, how big it is."""
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, TypeError, ValueError):
        raise ValueError(NOT_UPLOADED) from None
    if not resolved.is_relative_to(upload_folder()) or not resolved.is_file():
        raise ValueError(NOT_UPLOADED)
    return str(resolved)


def accept_bare_paths(component):
    """A gr.File whose payload may lack Gradio's `meta` key. Gradio's own check of such a payload answers
    `error: null`; let through, it reaches the app's handler, which refuses any path the upload route
    did not write (`check_uploaded`) with a message. (Gradio's File reads no file while preprocessing.)"""
    from gradio.data_classes import FileData
    from pydantic import model_validator

    class BarePathFileData(FileData):
        @model_validator(mode="before")
        @classmethod
        def _add_meta(cls, data):
            if isinstance(data, dict) and "meta" not in data:
                data = {**data, "meta": {"_type": "gradio.FileData"}}
            return data

    component.data_model = BarePathFileData
    return component


# Components ---------------------------------------------------------------------------

MAX_CHOICE_CHARS = 200  # a model name or a choice; longer is refused before Gradio quotes it in its error
MAX_MESSAGE_CHARS = 300


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _expected(component) -> tuple[tuple, str] | None:
    """The Python types a control's value may arrive as, and how to say so; None: leave it to Gradio."""
    import gradio as gr

    if isinstance(component, (gr.Number, gr.Slider)):
        low, high = getattr(component, "minimum", None), getattr(component, "maximum", None)
        span = f" from {low} to {high}" if low is not None and high is not None else ""
        return (int, float), f"a number{span}"
    if isinstance(component, gr.Checkbox):
        return (bool,), "true or false"
    if isinstance(component, (gr.Radio, gr.Dropdown)) and not getattr(component, "multiselect", False):
        values = [choice[1] if isinstance(choice, (tuple, list)) else choice for choice in component.choices or []]
        if values and all(isinstance(value, str) for value in values):
            return (str,), "one of its choices"  # a model menu: a model name, never a number
        return (str, int, float), "one of its choices"
    if isinstance(component, gr.Textbox):
        return (str,), "text"
    return None


def _finite(number) -> bool:
    import math

    try:
        return math.isfinite(number)
    except OverflowError:  # an integer of hundreds of digits: no float holds it
        return False


def guard_inputs(blocks) -> None:
    """Every input control of the page checks the value's type before Gradio's own preprocess, and any
    error in a preprocess becomes a message naming the control: Gradio would answer `error: null`
    (a TypeError comparing "many" with a number, a ValueError from int(NaN))."""
    import gradio as gr

    for component in list(blocks.blocks.values()):
        if not isinstance(component, gr.components.Component) or getattr(component, "_genart_guarded", False):
            continue
        label = component.label or type(component).__name__
        expected = _expected(component)
        original = component.preprocess

        def preprocess(payload, original=original, label=label, expected=expected):
            if payload is not None and expected is not None:
                types, what = expected
                if what == "one of its choices" and isinstance(payload, str) and len(payload) > MAX_CHOICE_CHARS:
                    raise gr.Error(f"`{label}` must be {what}, got {_short(payload)}.", print_exception=False)
                number = isinstance(payload, (int, float)) and not isinstance(payload, bool)
                if isinstance(payload, bool) and bool not in types or not isinstance(payload, types) or \
                        (number and not _finite(payload)):
                    raise gr.Error(f"`{label}` must be {what}, got {_short(payload)}.", print_exception=False)
            try:
                return original(payload)
            except gr.Error as error:
                if not getattr(error, "print_exception", True):
                    raise  # the project's own message (an upload check's): it says all it should
                # Gradio's own refusal (a slider's bound): name the control, keep it short (it may quote
                # the whole value), and print no traceback for it.
                message = str(error)
                if len(message) > MAX_MESSAGE_CHARS:
                    message = message[:MAX_MESSAGE_CHARS] + "…"
                raise gr.Error(f"`{label}`: {message}", print_exception=False) from None
            except Exception as error:  # noqa: BLE001  (any failure to read an input: say which, never blank)
                raise gr.Error(f"`{label}` could not be read: {type(error).__name__}.", print_exception=False) \
                    from None
        replace_preprocess(component, preprocess)
        component._genart_guarded = True


def _unreadable(block_fn, inputs: list, error: Exception) -> str:
    """What to say when Gradio could not read an event's inputs before any control's preprocess: which
    file input is not a file this server's upload route wrote (the first whose model refuses its value)."""
    for block, value in zip(block_fn.inputs, inputs):
        model = getattr(block, "data_model", None)
        if model is None or value is None:
            continue
        label = getattr(block, "label", None) or type(block).__name__
        if type(error).__name__ == "InvalidPathError" and _paths_in(value):
            return f"`{label}`: {NOT_UPLOADED}"
        try:
            model.model_validate(value, context={"validate_meta": True})
        except Exception:  # noqa: BLE001  (pydantic's ValidationError, or any other refusal of the shape)
            return (f"`{label}` must be a file uploaded to this server (what /gradio_api/upload returns, as "
                    f"{{\"path\": ..., \"meta\": {{\"_type\": \"gradio.FileData\"}}}}), got {_short(value)}.")
    return f"The request's inputs could not be read ({type(error).__name__}); the API page lists what each takes."


def _paths_in(value) -> bool:
    found: set[str] = set()
    _paths(value, found)
    return bool(found)


def explain_unreadable_inputs(blocks) -> None:
    """Gradio reads an event's inputs before any control's preprocess (their count, files moved into its
    cache, its pydantic models) and answers a failure there with `error: null`. Here the count is checked
    first and any other failure there becomes a message naming the input (Blocks.preprocess_data, wrapped
    on this app only)."""
    import gradio as gr

    original = blocks.preprocess_data

    async def preprocess_data(block_fn, inputs, *args, **kwargs):
        expected = len(block_fn.inputs)
        if not isinstance(inputs, list) or len(inputs) != expected:
            got = len(inputs) if isinstance(inputs, list) else type(inputs).__name__
            raise gr.Error(f"This event takes {expected} inputs (the API page lists them), got {got}.",
                           print_exception=False)
        try:
            return await original(block_fn, inputs, *args, **kwargs)
        except gr.Error:
            raise
        except Exception as error:  # noqa: BLE001  (never `error: null`; nothing of the value but its type)
            raise gr.Error(_unreadable(block_fn, inputs, error), print_exception=False) from None

    blocks.preprocess_data = preprocess_data


# The server ------------------------------------------------------------------------------------

def _protocols() -> list:
    """uvicorn's HTTP protocol classes installed here: h11's always, httptools' when it is installed."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    classes = [H11Protocol]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        classes.append(HttpToolsProtocol)
    except ImportError:
        pass
    return classes


def limit_header_time() -> None:
    """A connection whose request has not begun (its headers not all in) `limits.HEADER_SECONDS` after it
    opened, or after its last response, is closed. uvicorn arms its keep-alive timer only after a response
    and cancels it at any byte, so a client sending headers one byte at a time held its socket for good."""
    from .. import limits

    def arm(protocol) -> None:
        started = protocol.cycle  # the request that was going when the timer was armed (None: none yet)

        def close_if_still_waiting():
            if protocol.cycle is started and not protocol.transport.is_closing():
                protocol.transport.close()
        protocol.loop.call_later(limits.HEADER_SECONDS, close_if_still_waiting)

    for cls in _protocols():
        if getattr(cls, "_genart_header_time", False):
            continue
        connection_made, on_response_complete = cls.connection_made, cls.on_response_complete

        def timed_connection_made(self, transport, _original=connection_made):
            _original(self, transport)
            arm(self)

        def timed_response_complete(self, _original=on_response_complete):
            _original(self)
            arm(self)

        cls.connection_made, cls.on_response_complete = timed_connection_made, timed_response_complete
        cls._genart_header_time = True


# The drawing canvas ------------------------------------------------------------------------------

DRAWING_LOST = "The drawing did not reach the server (or waited too long); draw again and translate."


def hold_drawings(editor):
    """A gr.ImageEditor whose drawings are held within limits and reach the handler unopened.

    Gradio's editor has a server function, `accept_blobs`, that takes its pictures (background, each
    layer, the composite) under an id the client makes up and keeps them in a dict on the component
    until an event reads that id; nothing bounds it, so a script posting made-up ids could grow it
    without end. (Gradio 6.31's own page sends the pictures through the upload route instead, and
    the request limits refuse a form with that many parts; the bound stays for any other way in.)
    Here only the composite is kept (the one picture the app reads), at most
    limits.MAX_DRAWING_BYTES each, and only the limits.MAX_DRAWINGS_HELD latest; reading does not
    remove it (the event's validator reads the inputs once before the event does). The handler gets
    the composite's bytes, or the path of a file the upload route wrote, for `uploads.open_image` to
    check before decoding."""
    import threading
    from collections import OrderedDict

    import gradio as gr
    from gradio.components.image_editor import EditorDataBlobs

    from .. import limits

    held: OrderedDict = OrderedDict()
    lock = threading.Lock()

    def accept_blobs(data):
        info, files = getattr(data, "data", None), getattr(data, "files", None)
        if not isinstance(info, dict) or not files or len(files) != 1:
            raise ValueError("A drawing arrives as one file.")
        if info.get("type") != "composite":
            return None  # the background and the layers are never read
        key, picture = info.get("id"), files[0][1]
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise ValueError("A drawing's id is 1 to 64 characters.")
        if len(picture) > limits.MAX_DRAWING_BYTES:
            raise ValueError(f"A drawing may be at most {limits.MAX_DRAWING_BYTES // 2**20} MB.")
        with lock:
            held.pop(key, None)
            held[key] = EditorDataBlobs(background=None, layers=[], composite=picture)
            while len(held) > limits.MAX_DRAWINGS_HELD:
                held.popitem(last=False)
    accept_blobs._is_server_fn = True  # what Gradio's /component_server route looks for

    def preprocess(payload):
        if payload is None:
            return None
        if payload.id is not None:
            with lock:
                drawing = held.get(payload.id)
            if drawing is None:
                raise gr.Error(DRAWING_LOST, print_exception=False)
            return drawing.composite
        file = payload.composite or payload.background  # an API client sends files it uploaded first
        try:
            return check_uploaded(file.path) if file is not None and file.path else None
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None

    editor.data_model = _editor_data_with_bare_paths()
    editor.blob_storage = held
    editor.accept_blobs = accept_blobs
    editor.server_fns = [accept_blobs]
    return replace_preprocess(editor, preprocess)


def _with_meta(value):
    if isinstance(value, dict) and "meta" not in value:
        return {**value, "meta": {"_type": "gradio.FileData"}}
    return value


def _editor_data_with_bare_paths():
    """The editor's payload model, accepting a file without Gradio's `meta` key (as `accept_bare_paths`):
    Gradio's own check of such a payload answers `error: null`; let through, the preprocess refuses any
    path the upload route did not write, with a message."""
    from gradio.components.image_editor import EditorData
    from pydantic import model_validator

    class BarePathEditorData(EditorData):
        @model_validator(mode="before")
        @classmethod
        def _add_meta(cls, data):
            if not isinstance(data, dict):
                return data
            data = {**data, **{key: _with_meta(data[key]) for key in ("background", "composite") if key in data}}
            if isinstance(data.get("layers"), list):
                data["layers"] = [_with_meta(layer) for layer in data["layers"]]
            return data
    return BarePathEditorData


def replace_preprocess(component, preprocess):
    """The component with its `preprocess` replaced (not a subclass: Gradio writes a .pyi stub next to
    the source file of every Component subclass it sees defined)."""
    component.preprocess = preprocess
    return component
