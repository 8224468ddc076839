"""The app: one tab per family, queue lanes by the length of a run (ui/lanes.py), and the launch settings that
keep a public server safe."""

import gradio as gr
import huggingface_hub.constants as hf_constants
from starlette.middleware import Middleware

from .. import families, limits, serving, settings
from . import example_sets, gradio_internals, handlers, lesson_links
from .request_limits import BodyLimit, ClosedRoutes, OneJobPerVisitor, UploadBudget

TITLE = "GenArt Playground"
INTRO = ("# GenArt Playground\n"
         "How AI makes images, one idea per tab: diffusion from text, style transfer, walking through a GAN's "
         "latent space, and what an autoencoder keeps. Built-in models run offline on a CPU; a GPU runs the "
         "real checkpoints. Every tab is also an API endpoint (see *Use via API* at the bottom).")

# The built-ins draw 64×64 pictures: shown at their own size they are specks. Images marked
# "pixel-art" fill their box, scaled up with hard pixel edges, so a learner sees every pixel.
CSS = """
.pixel-art img { width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated; }
"""

# Gradio keeps uploads and outputs in its cache: delete files older than an hour, checking hourly.
DELETE_CACHE = (3600, 3600)


def build_demo() -> gr.Blocks:
    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(INTRO)
        link = gr.Textbox(label="Lesson link", interactive=False, buttons=["copy"], max_lines=1, elem_id="lesson-link",
                          info="This tab with its settings: share it and the app opens just so.")
        notice = gr.Textbox(label="Lesson link notice", interactive=False, visible=False, lines=2,
                            elem_id="lesson-link-notice")
        with gr.Tabs() as tabs:
            # Each tab returns its settings (ui/settings_flow.TabSettings), named as the function's arguments.
            tab_settings = {family.id: family.build_tab(run=handlers.package_functions(family))
                            for family in families.FAMILIES if family.tab}
        # The URL names the tab and its settings (?tab=...&seed=...): filled in on load, kept in step after.
        lesson_links.attach(demo, tabs, tab_settings, link, notice)
    # Every event's inputs, with or without an api_name: a malformed value gets a message, never `error: null`.
    gradio_internals.guard_inputs(demo)
    # What Gradio reads before any control (the inputs' count, files, their models): a message, never `error: null`.
    gradio_internals.explain_unreadable_inputs(demo)
    # A value an event's validator cannot even read goes on to the event, which names what is allowed.
    gradio_internals.defer_malformed_input_to_the_event()
    # Model events run in lanes (lanes.MODEL_LANES: long runs, the GAN, the autoencoders), each a queue of
    # its own with CONCURRENCY slots: a short job never waits behind a long one. QUEUE_SIZE may wait.
    # api_open=False: the direct routes (/gradio_api/run/<name>, /gradio_api/api/<name>) refuse every queued
    # event, which would otherwise run outside the lanes, the queue's size, the visitor rule and cancel.
    demo.queue(default_concurrency_limit=settings.CONCURRENCY, max_size=settings.QUEUE_SIZE, api_open=False)
    return demo


def launch_options() -> dict:
    """Server settings; host and port stay Gradio's (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, 127.0.0.1:7860)."""
    return {
        "max_file_size": limits.MAX_UPLOAD_BYTES,  # one byte more: HTTP 413, before the file is kept
        # Nothing on disk beyond Gradio's own cache, where it copies uploads, outputs and the
        # example inputs (gr.Examples copies them at build time).
        "allowed_paths": [],
        # Refused even if a later change allowed a parent folder: the weights, code and HF token.
        "blocked_paths": [str(settings.PACKAGE_DIR), hf_constants.HF_HOME],
        "theme": gr.themes.Soft(),
        "css": CSS + gradio_internals.GALLERY_CSS,
        "js": example_sets.PAGE_JS,  # a run clicked right after an example uses the example's values
        # Bodies over limits.MAX_BODY_BYTES (uploads: MAX_UPLOAD_REQUEST_BYTES) get HTTP 413 unread.
        # Public: one model job per visitor at a time (HTTP 429 for a second while the first waits or runs).
        # Closed: /dev/reload outside development, /queue/data of an unknown session (404 in one line).
        # An upload waits for room under the disk budget (uploads and outputs together), or gets HTTP 507.
        "app_kwargs": {"middleware": [Middleware(BodyLimit), Middleware(OneJobPerVisitor), Middleware(ClosedRoutes),
                                      Middleware(UploadBudget)]},
        # Gradio's monitoring prints its secret URL to the log for anyone who asks and answers
        # /monitoring/summary to anyone: closed unless the operator opens it.
        "enable_monitoring": settings.MONITORING,
    }


def launch(demo: gr.Blocks, **overrides):
    serving.limit_malloc_arenas()  # before the server's worker threads start allocating
    gradio_internals.limit_header_time()  # uvicorn has no deadline for a request's headers
    return demo.launch(**{**launch_options(), **overrides})
