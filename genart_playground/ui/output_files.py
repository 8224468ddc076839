"""Output files: what a run returns to the page (PNGs carrying their recipes, GIFs, MP4s), written once
and swept when old."""

import io
import tempfile
import time
from pathlib import Path

from .. import recipes
from . import gradio_internals


_OUTPUT_DIR = Path(tempfile.gettempdir()) / "genart_playground"
# Gradio copies a returned file into its own cache at once (cleaned by delete_cache); our copy is
# only needed until then, so ten minutes is ample. The load test sets it shorter.
OUTPUT_KEEP_SECONDS = 600


_last_sweep = 0.0


def _sweep_old_outputs(now: float) -> None:
    """Delete our files older than OUTPUT_KEEP_SECONDS. A timeline writes three files a step, so
    the folder is swept at most once per tenth of that age, not at every file written."""
    global _last_sweep
    if now - _last_sweep < OUTPUT_KEEP_SECONDS / 10:
        return
    _last_sweep = now
    for old in _OUTPUT_DIR.glob("*"):
        try:
            if now - old.stat().st_mtime > OUTPUT_KEEP_SECONDS:
                old.unlink()
        except OSError:
            pass  # another request removed it first


def write_output(data: bytes, suffix: str) -> str:
    """Bytes (a GIF, a PNG) to a temporary file Gradio can serve; old files are cleaned up."""
    _OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    _sweep_old_outputs(time.time())
    with tempfile.NamedTemporaryFile(dir=_OUTPUT_DIR, suffix=suffix, delete=False) as handle:
        handle.write(data)
    return handle.name


# Kept for the test that shows the bug the app's own pass (ui/gradio_internals.py) fixes.
_gradio_delete_files_created_by_app = gradio_internals.install_delete_pass()


def image_file(image) -> str:
    """A PIL image as a PNG file, written once: a gallery that grows while a run streams then sends
    paths, instead of Gradio encoding every picture again at every update."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return write_output(buffer.getvalue(), ".png")


def recipe_png(image, metadata: dict) -> str:
    """An output image as a PNG file carrying its recipe; Gradio serves the file as it is."""
    return write_output(recipes.png_with_recipe(image, metadata), ".png")


def frame_pngs(result) -> list[str]:
    """A walk's frames, in order, each a PNG carrying the walk's recipe and its frame number."""
    return [recipe_png(image, {**result.metadata, "frame": i}) for i, image in enumerate(result.images)]


def walk_outputs(result) -> tuple:
    """A walk for the page: its GIF, its MP4, its frames and its recipe."""
    return write_output(result.gif, ".gif"), write_output(result.mp4, ".mp4"), frame_pngs(result), result.metadata
