"""Uploaded images, opened safely: size and pixel count are checked before any pixel is decoded.

`Image.open` reads only the header, so a decompression bomb (a few KB of PNG that decodes to
gigabytes) is refused here at the cost of reading its width and height. Only common raster
formats are opened: PIL's EPS plugin, for one, would run Ghostscript on the upload.
"""

import io
import os
import re
import struct
import warnings
from pathlib import Path

from PIL import Image

from . import limits

FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # JPEG includes MPO, from many phone cameras
NOTE_KEY = "genart_upload_note"  # image.info key for what was done to an upload (the result says so)


def _side() -> int:
    return int(limits.MAX_UPLOAD_PIXELS ** 0.5)


def _check_aspect(width: int, height: int) -> None:
    if max(width, height) > limits.MAX_ASPECT * min(width, height):
        raise ValueError(f"The image is {width}×{height}; its longer side may be at most {limits.MAX_ASPECT} times its "
                         f"shorter side. Crop it and upload it again.")


def _too_many_pixels(pixels: int, size: str = "") -> ValueError:
    return ValueError(f"The image is {size}{pixels:,} pixels; the limit is {limits.MAX_UPLOAD_PIXELS:,} pixels "
                      f"({_side()}×{_side()}). Scale it down and upload it again.")


def _bomb_pixels(error: Exception) -> int:
    """The pixel count in PIL's own bomb error ("Image size (N pixels) exceeds limit ..."); PIL's
    limit when the wording changes. (Re-opening with PIL's guard off would change a global that
    every thread of the server shares.)"""
    found = re.search(r"\((\d+) pixels\)", str(error))
    return int(found.group(1)) if found else 2 * Image.MAX_IMAGE_PIXELS


def _damaged(error: Exception) -> ValueError:
    return ValueError(f"The image file is damaged or truncated and cannot be read ({error}).")


def _check_bytes(size: int) -> None:
    if size > limits.MAX_UPLOAD_BYTES:
        raise ValueError(f"The image file is {size / 2**20:.1f} MB; the limit is "
                         f"{limits.MAX_UPLOAD_BYTES / 2**20:.0f} MB.")
    if size == 0:
        raise ValueError("The image file is empty.")


def _open_header(source) -> Image.Image:
    """Open `source` (a path or bytes), reading only its header."""
    if isinstance(source, (bytes, bytearray)):
        _check_bytes(len(source))
        fp = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"No image file at {str(path)!r}.")
        _check_bytes(path.stat().st_size)
        fp = path
    try:
        with warnings.catch_warnings():
            # PIL warns above 89 M pixels and raises above twice that; our own, lower limit follows.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp, formats=FORMATS)
    except Image.DecompressionBombError as error:  # above twice PIL's limit, which is far above ours
        raise _too_many_pixels(_bomb_pixels(error)) from None
    except Image.UnidentifiedImageError:
        raise ValueError(f"The file is not an image this app can read; upload one of "
                         f"{', '.join(FORMATS)}.") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:  # a damaged header
        raise _damaged(error) from None


def open_image(source, *, what: str = "The image") -> Image.Image:
    """A path, bytes or PIL image -> a decoded PIL image (the first frame of an animation), or a
    ValueError that says what is wrong and what is allowed. `what` names the image in messages."""
    try:
        return _open(source)
    except ValueError as error:
        if what == "The image":
            raise
        raise ValueError(f"{what}: {error}") from None


def _open(source) -> Image.Image:
    if isinstance(source, Image.Image):
        width, height = source.size
        if width * height > limits.MAX_UPLOAD_PIXELS:
            raise _too_many_pixels(width * height, f"{width}×{height} = ")
        _check_aspect(width, height)
        return source
    if not isinstance(source, (str, os.PathLike, bytes, bytearray)):
        raise ValueError(f"An image must be a file path, bytes or a PIL image, got {type(source).__name__}.")

    # 1. The header only: file size, format and pixel count, nothing decoded yet
    image = _open_header(source)
    width, height = image.size
    if width * height > limits.MAX_UPLOAD_PIXELS:
        image.close()
        raise _too_many_pixels(width * height, f"{width}×{height} = ")
    try:
        _check_aspect(width, height)
    except ValueError:
        image.close()
        raise

    # 2. Decode the first frame into memory; a damaged file is a clear error, not a half image
    frames = getattr(image, "n_frames", 1)
    try:
        image.seek(0)
        image.load()
        decoded = image.copy()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _damaged(error) from None
    finally:
        image.close()
    if frames > 1:
        decoded.info[NOTE_KEY] = f"animated or multi-page image: used the first of its {frames} frames"
    return decoded


def open_if_file(value):
    """Bytes, or the path of an existing file, through open_image; anything else unchanged, for the
    adapter's own check to name (a prompt or a typo is not taken for a file)."""
    if isinstance(value, (bytes, bytearray)) or (isinstance(value, (str, os.PathLike)) and Path(value).is_file()):
        return open_image(value)
    return value


def upload_notes(image: Image.Image) -> list[str]:
    """What open_image did to the upload, for the result's metadata."""
    note = image.info.get(NOTE_KEY)
    return [note] if note else []
