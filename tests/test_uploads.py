"""Uploaded images: bombs are refused from the header, odd formats work or get a clear error.

The bombs are written chunk by chunk: a PNG header claiming 20000×20000 (or 12000×12000) pixels
and a few compressed rows, a few hundred bytes in all. Decoding one would take 1.2 GB (432 MB);
`Image.open` reads only the header, which is all the check needs.
"""

import io
import resource
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image

from genart_playground import limits, uploads

ROOT = Path(__file__).resolve().parents[1]
LIMIT_TEXT = f"the limit is {limits.MAX_UPLOAD_PIXELS:,} pixels"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header for an RGB image of width × height, with only four rows of zeros."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (3 * width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=options.pop("format", "PNG"), **options)
    return buffer.getvalue()


def noise(width=48, height=32, mode="RGB") -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    paths = {}
    for side in (20000, 12000):
        paths[side] = folder / f"bomb-{side}.png"
        paths[side].write_bytes(bomb_png(side, side))
        assert paths[side].stat().st_size < 5000  # "a few KB"
    return paths


# ---------------------------------------------------------------------------------------------
# Decompression bombs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("side", [20000, 12000])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_bomb_is_refused_from_its_header(bombs, side, as_bytes, monkeypatch):
    source = bombs[side].read_bytes() if as_bytes else str(bombs[side])
    decoded = []
    original_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: (decoded.append(self.size), original_load(self))[1])
    with pytest.raises(ValueError, match=f"{side * side:,} pixels; {LIMIT_TEXT}"):
        uploads.open_image(source)
    assert decoded == []  # no pixel was decoded: the header said enough


def test_a_bomb_costs_the_process_less_than_100_mb(bombs):
    # A fresh process, so its peak memory (ru_maxrss) measures this check and nothing before it.
    script = textwrap.dedent(f"""
        import resource
        from genart_playground import uploads
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for path in {[str(p) for p in bombs.values()]!r}:
            try:
                uploads.open_image(path)
            except ValueError:
                pass
            else:
                raise SystemExit("a bomb was decoded")
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    """)
    output = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert output.returncode == 0, output.stderr
    peak_growth_mb = float(output.stdout.split()[-1])
    print(f"two bombs refused, peak memory growth {peak_growth_mb:.1f} MB")
    assert peak_growth_mb < 100, peak_growth_mb


def test_pil_alone_would_decode_the_smaller_bomb():
    # What the check guards against: 12000² is under PIL's own bomb error (2 × 89 M pixels), so
    # without our pixel limit the upload would be decoded (432 MB) after a mere warning.
    assert 12000 * 12000 < 2 * Image.MAX_IMAGE_PIXELS
    assert 12000 * 12000 > limits.MAX_UPLOAD_PIXELS


def test_a_large_pil_image_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_UPLOAD_PIXELS", 32 * 32)
    with pytest.raises(ValueError, match="the limit is 1,024 pixels"):
        uploads.open_image(noise(33, 32))


def test_a_file_over_the_byte_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(noise()))
    monkeypatch.setattr(limits, "MAX_UPLOAD_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValueError, match="the limit is"):
        uploads.open_image(path)
    with pytest.raises(ValueError, match="the limit is"):
        uploads.open_image(path.read_bytes())


# ---------------------------------------------------------------------------------------------
# Damaged and non-image files: a clear error
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (png_bytes(noise())[:400], "damaged or truncated"),
    (b"\x89PNG\r\n\x1a\n" + b"\x17" * 200, "not an image|damaged"),
    (png_bytes(noise(), format="JPEG")[:300], "damaged or truncated"),
    (b"name,value\n1,2\n" * 20, "not an image this app can read"),
    (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "not an image this app can read"),
    (b"", "empty"),
], ids=["truncated-png", "corrupt-png", "truncated-jpeg", "text", "eps", "empty"])
def test_damaged_and_non_image_files_get_a_clear_error(tmp_path, data, message):
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        uploads.open_image(path)


def test_a_missing_file_or_a_wrong_type_gets_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="No image file"):
        uploads.open_image(tmp_path / "nothing.png")
    with pytest.raises(ValueError, match="must be a file path, bytes or a PIL image, got ndarray"):
        uploads.open_image(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="^The style image: "):
        uploads.open_image(b"not an image", what="The style image")


# ---------------------------------------------------------------------------------------------
# Unusual but valid images: they work
# ---------------------------------------------------------------------------------------------

def _sixteen_bit() -> bytes:
    ramp = (np.arange(32 * 48, dtype=np.uint16).reshape(32, 48) * 40)
    return png_bytes(Image.fromarray(ramp, "I;16"))


def _animated() -> bytes:
    frames = [Image.new("RGB", (48, 32), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buffer.getvalue()


def _palette_with_transparency() -> bytes:
    image = noise().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return png_bytes(image, transparency=0)


VALID = {
    "rgba": lambda: png_bytes(noise(mode="RGBA")),
    "la": lambda: png_bytes(noise(mode="LA")),
    "palette": lambda: png_bytes(noise().convert("P")),
    "palette-transparency": _palette_with_transparency,
    "16-bit": _sixteen_bit,
    "cmyk-jpeg": lambda: png_bytes(noise(mode="CMYK"), format="JPEG"),
    "grey-jpeg": lambda: png_bytes(noise(mode="L"), format="JPEG"),
    "webp": lambda: png_bytes(noise(), format="WEBP"),
    "tiff": lambda: png_bytes(noise(), format="TIFF"),
    "bmp": lambda: png_bytes(noise(), format="BMP"),
    "animated-gif": _animated,
}


@pytest.mark.parametrize("kind", list(VALID))
def test_unusual_images_open_and_reconstruct(kind, tmp_path, tiny_vae):
    from genart_playground import vae_reconstruction

    path = tmp_path / f"{kind}.img"
    path.write_bytes(VALID[kind]())
    image = uploads.open_image(path)
    assert image.size == (48, 32)
    result = vae_reconstruction(str(path), model=tiny_vae)  # adapters take a path too
    assert result.images[0].size == (48, 32) and result.images[0].mode == "RGB"
    assert np.isfinite(result.metrics["psnr"])
    animated_note = [n for n in result.metadata["notes"] if "first of its 3 frames" in n]
    assert bool(animated_note) == (kind == "animated-gif")


def test_the_first_frame_of_an_animation_is_used():
    image = uploads.open_image(_animated())
    assert image.convert("RGB").getpixel((0, 0))[0] > 200  # red, the first frame
    assert uploads.upload_notes(image) == ["animated or multi-page image: used the first of its 3 frames"]


def test_large_but_reasonable_images_are_resized_and_say_so(tmp_path, tiny_vae, monkeypatch):
    from genart_playground import vae_reconstruction

    monkeypatch.setattr(limits, "MAX_MODEL_PIXELS", 64 * 64)
    path = tmp_path / "large.png"
    path.write_bytes(png_bytes(noise(256, 128)))
    result = vae_reconstruction(path, model=tiny_vae)
    assert result.images[0].size[0] * result.images[0].size[1] <= 64 * 64
    assert any(note.startswith("resized from 256×128") for note in result.metadata["notes"])


def test_style_transfer_takes_paths(tmp_path):
    from genart_playground import style_transfer

    content, style = tmp_path / "content.png", tmp_path / "style.jpg"
    content.write_bytes(png_bytes(noise(32, 32)))
    style.write_bytes(png_bytes(noise(32, 32, mode="CMYK"), format="JPEG"))
    result = style_transfer(str(content), style, method="gatys", model="builtin/random-filters", steps=2, size=32)
    assert result.images[0].size == (32, 32)
    with pytest.raises(ValueError, match=LIMIT_TEXT):
        style_transfer(str(content), bomb_png(12000, 12000), method="gatys", model="builtin/random-filters",
                       steps=2, size=32)


# ---------------------------------------------------------------------------------------------
# Through the HTTP API
# ---------------------------------------------------------------------------------------------

def test_a_bomb_through_the_api_is_refused_and_the_server_keeps_serving(api_client, bombs, tiny_vae, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    server = psutil.Process()  # the server runs in this process
    good = tmp_path / "good.png"
    good.write_bytes(png_bytes(noise(32, 32)))
    api_client.predict(handle_file(str(good)), tiny_vae, api_name="/vae_reconstruction")  # warm
    rss_before = server.memory_info().rss
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for side, path in bombs.items():
        with pytest.raises(AppError, match=f"{side * side:,} pixels; {LIMIT_TEXT}"):
            api_client.predict(handle_file(str(path)), tiny_vae, api_name="/vae_reconstruction")
    growth_mb = (server.memory_info().rss - rss_before) / 2**20
    peak_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    print(f"API: server memory growth {growth_mb:.1f} MB, peak growth {peak_growth_mb:.1f} MB")
    assert growth_mb < 100 and peak_growth_mb < 100
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\n" * 10)
    with pytest.raises(AppError, match="not an image this app can read"):
        api_client.predict(handle_file(str(text)), tiny_vae, api_name="/vae_reconstruction")
    recon, *_ = api_client.predict(handle_file(str(good)), tiny_vae, api_name="/vae_reconstruction")
    with Image.open(recon) as image:
        assert image.size == (32, 32)


def test_a_bomb_style_image_through_the_api_names_which_image(api_client, bombs, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    good = tmp_path / "good.png"
    good.write_bytes(png_bytes(noise(32, 32)))
    with pytest.raises(AppError, match=f"The style image: .*{LIMIT_TEXT}"):
        api_client.predict(handle_file(str(good)), handle_file(str(bombs[12000])), "", "gatys",
                           "builtin/random-filters", 2, 32, 0.5, 0, False, api_name="/style_transfer")


def test_one_byte_over_the_upload_limit_gets_413(served_app, monkeypatch):
    import httpx

    url = served_app.local_url.rstrip("/") + "/gradio_api/upload"
    limit = limits.MAX_UPLOAD_BYTES
    at_limit = httpx.post(url, files={"files": ("a.png", b"\0" * limit, "image/png")}, timeout=30)
    over = httpx.post(url, files={"files": ("a.png", b"\0" * (limit + 1), "image/png")}, timeout=30)
    assert at_limit.status_code == 200
    assert over.status_code == 413


def test_the_upload_inputs_are_drawn_as_images(served_app):
    """The upload inputs are gr.Image to the browser: same frontend, their labels and sources kept."""
    inputs = {c["props"].get("label"): c for c in served_app.config["components"]
              if c["props"].get("sources") == ["upload", "clipboard"]}
    assert {"Content image", "Style image", "Image (large ones are shrunk, odd sizes padded)"} <= set(inputs)
    assert all(c["type"] == "image" for c in inputs.values())
