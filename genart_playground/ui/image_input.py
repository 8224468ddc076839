"""An image input that hands the handler the uploaded file unopened.

gr.Image opens every upload with PIL before the handler runs (and decodes it unless it is
type="filepath" in its own mode), so a decompression bomb would be decoded, or refused with a
message that names no limit, before `uploads.open_image` could check its pixel count.
"""

import base64

import gradio as gr

from .gradio_internals import check_uploaded, hold_drawings, replace_preprocess


def upload_image(**options) -> gr.Image:
    """gr.Image on screen and in the API; its value is the upload's path (bytes for a data: URL).

    A gr.Image whose preprocess is replaced (ui/gradio_internals.py)."""
    return replace_preprocess(gr.Image(type="filepath", image_mode=None, **options), _unopened)


def _unopened(payload):
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):
        return base64.b64decode(payload.url.split(",", 1)[1])  # a pasted image, not a file yet
    if payload.path is None:
        raise gr.Error("The image upload has no file.", print_exception=False)
    try:  # a {"path": ...} sent without Gradio's `meta` skips its own check: the server's disk is not an input
        return check_uploaded(payload.path)
    except ValueError as error:
        raise gr.Error(str(error), print_exception=False) from None


def drawing_canvas(*, paper, colours: dict[str, tuple[int, int, int]], size: int = 256, pen: int = 4,
                   **options) -> gr.ImageEditor:
    """A square canvas of `size` pixels on a `paper` picture, whose brush paints only `colours` (name ->
    RGB), `pen` pixels across; its value reaches the handler as the drawing's PNG bytes, unopened.

    A gr.ImageEditor whose drawings are held and read as ui/gradio_internals.py says (`hold_drawings`)."""
    brush = gr.Brush(colors=[f"rgb{rgb}" for rgb in colours.values()], color_mode="fixed",
                     default_size=pen)
    editor = gr.ImageEditor(value=paper, type="filepath", image_mode="RGB", canvas_size=(size, size),
                            fixed_canvas=True, brush=brush, eraser=gr.Eraser(default_size=2 * pen),
                            sources=(), transforms=(), layers=False, **options)
    return hold_drawings(editor)
