"""Codebook explorer: any picture as a token model's autoencoder reads it, a grid of codebook indices,
each code shown as the patch it decodes to; one cell's code can be swapped to see what it changes."""

import torch
from PIL import Image, ImageDraw

from . import autoregressive
from ... import checks, imaging
from ...data import shapes
from ...metrics import pixels as pixel_metrics
from ...results import CodebookResult, base_metadata

ATLAS_COLUMNS = 32
ZOOM = 4  # the grid picture is drawn this many times larger, so the cells and their ids are readable


def grid_picture(picture: Image.Image, codes: torch.Tensor, mark: tuple[int, int] | None = None) -> Image.Image:
    """The picture enlarged, with the token grid and each cell's code id drawn on it."""
    big = picture.resize((picture.width * ZOOM, picture.height * ZOOM), Image.Resampling.NEAREST)
    draw, grid = ImageDraw.Draw(big), codes.shape[0]
    cell = big.width // grid
    for row in range(grid):
        for column in range(grid):
            box = [column * cell, row * cell, (column + 1) * cell - 1, (row + 1) * cell - 1]
            draw.rectangle(box, outline=(255, 0, 255) if mark == (row, column) else (90, 90, 90))
            draw.text((box[0] + 2, box[1] + 1), str(int(codes[row, column])), fill=(255, 255, 255),
                      stroke_width=1, stroke_fill=(0, 0, 0))
    return big


def atlas(token_model) -> Image.Image:
    """Every code decoded on its own (a 1×1 grid): the patch it stands for."""
    codes = torch.arange(token_model.layout.codebook).view(-1, 1, 1)
    patches = imaging.to_pil(torch.cat([token_model.decode(codes[i:i + 256]) for i in range(0, len(codes), 256)]))
    return imaging.grid(patches, columns=ATLAS_COLUMNS, pad=1)


@torch.inference_mode()
def codebook_explorer(image, *, model=None, row=None, column=None, code=None, progress=None) -> CodebookResult:
    # 1. Check inputs: the picture, then the swap (all three of row, column, code, or none)
    image = checks.check_image("image", image)
    swap = (row, column, code)
    if any(v is not None for v in swap) and any(v is None for v in swap):
        raise ValueError("To swap a token give `row`, `column` and `code` together (or none of them).")
    if not autoregressive.is_token_model(model):
        raise ValueError("The codebook explorer is for token models (such as builtin/shapes-vqgpt).")
    options = autoregressive.check_options(model)
    size = options.size
    if row is not None:  # bounds any model could have first; this model's own after it loads
        row, column = checks.check_int("row", row, 0, size - 1), checks.check_int("column", column, 0, size - 1)
        code = checks.check_int("code", code, 0, autoregressive.MAX_TOP_K)

    # 2. Get the cached model and its lock; the cell and the code are checked against its grid and codebook
    token_model, lock = autoregressive.load(options, progress)
    layout = token_model.layout
    if row is not None:
        checks.check_int("row", row, 0, layout.grid - 1), checks.check_int("column", column, 0, layout.grid - 1)
        checks.check_int("code", code, 0, layout.codebook - 1)

    # 3. Encode the picture to its codes, decode them back (and again with the one code swapped)
    picture = shapes.square(imaging.to_rgb(image), size)  # what the autoencoder reads
    original = imaging.to_tensor(picture)
    with lock:
        codes = token_model.encode(original)
        rebuilt = token_model.decode(codes)
        swapped_codes = codes.clone()
        if row is not None:
            swapped_codes[0, row, column] = code
        swapped = token_model.decode(swapped_codes) if row is not None else None
        codebook = atlas(token_model)

    # 4. The pictures, the grid with its ids, the figures
    images = [picture, *imaging.to_pil(rebuilt)] + (imaging.to_pil(swapped) if swapped is not None else [])
    metrics = {"psnr": pixel_metrics.psnr(rebuilt, original)}
    if swapped is not None:
        metrics["changed_pixels"] = float((imaging.to_tensor(images[2]) != imaging.to_tensor(images[1]))
                                          .any(dim=1).float().mean())
    warnings = [] if image.size == (size, size) else [
        f"the picture ({image.width}×{image.height}) was cropped to its centre square and resized to {size}×{size}, "
        "the size the autoencoder reads"]
    metadata = base_metadata("codebook_explorer", options.spec, token_model.device, token_model.dtype,
                             row=row, column=column, code=code, codebook=token_model.layout.codebook,
                             tokens=token_model.layout.image_tokens, warnings=warnings)
    mark = (row, column) if row is not None else None
    return CodebookResult(images=images, metadata=metadata, codes=codes[0].tolist(),
                          grid=grid_picture(images[-1], swapped_codes[0], mark), atlas=codebook, metrics=metrics)
