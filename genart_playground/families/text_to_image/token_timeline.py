"""Token timeline: a token model writing its picture, token by token in raster order. Frame i is the
picture decoded from the first i tokens; the cells not yet written are greyed out."""

import torch
from PIL import Image, ImageDraw

from . import autoregressive
from ... import checks, diffusion, imaging
from ...results import TokenTimelineResult, base_metadata

UNWRITTEN = (128, 128, 128)  # a cell the model has not written yet
NEXT = (255, 0, 255)  # the outline of the cell it writes next


def frame(picture: Image.Image, written: int, grid: int) -> Image.Image:
    """The picture with the cells from `written` on greyed out and the next one outlined."""
    picture = picture.copy()
    draw, cell = ImageDraw.Draw(picture), picture.width // grid
    for index in range(written, grid * grid):
        row, column = divmod(index, grid)
        draw.rectangle([column * cell, row * cell, (column + 1) * cell - 1, (row + 1) * cell - 1], fill=UNWRITTEN)
    if written < grid * grid:
        row, column = divmod(written, grid)
        draw.rectangle([column * cell, row * cell, (column + 1) * cell - 1, (row + 1) * cell - 1], outline=NEXT)
    return picture


@torch.inference_mode()
def token_timeline(prompt, *, model=None, negative_prompt="", guidance=None, temperature=None, top_k=None, seed=0,
                   progress=None) -> TokenTimelineResult:
    # 1. Check inputs (as text_to_image does for a token model)
    prompt = checks.check_prompt("prompt", prompt)
    seed = checks.check_seed("seed", seed)
    if not autoregressive.is_token_model(model):
        raise ValueError("The token timeline is for token models (such as builtin/shapes-vqgpt); a diffusion "
                         "model's view is the denoising timeline.")
    options = autoregressive.check_options(model, negative_prompt, temperature, top_k, guidance)

    # 2. Get the cached model and its lock
    token_model, lock = autoregressive.load(options, progress)
    grid, total = token_model.layout.grid, token_model.layout.image_tokens
    prefixes = []

    def record(i, codes):
        prefixes.append(codes[0].clone())
        if progress is not None:
            progress(0.9 * (i + 1) / total, f"Token {i + 1}/{total}")

    # 3. Write the tokens exactly as text_to_image does, keeping every prefix
    with lock:
        codes = autoregressive.generate(token_model, options, prompt, [seed], record)
        # A prefix decodes with the unwritten cells filled by the last token written (the grid must be
        # whole); those cells are then greyed out, so only the written part shows.
        grids = torch.stack([torch.cat([p, p[-1:].expand(total - len(p))]).view(grid, grid) for p in prefixes[:-1]])
        pixels = torch.cat([token_model.decode(grids[i:i + 16]) for i in range(0, len(grids), 16)]
                           # the whole grid decoded alone, as text_to_image decodes it: the same pixels
                           + [token_model.decode(codes)])

    # 4. Frames, the animation, and the description
    pictures = imaging.to_pil(pixels)
    first = Image.new("RGB", pictures[0].size, UNWRITTEN)  # frame 0: nothing written
    frames = [frame(first, 0, grid)] + [frame(p, i + 1, grid) for i, p in enumerate(pictures)]
    warnings = diffusion.prompt_warnings(token_model.tokenizer, prompt, closed=True) + \
        checks.check_output(pixels[-1:], options.spec.name, low=-1.0)
    if progress is not None:
        progress(1.0, "Done")
    metadata = base_metadata("token_timeline", options.spec, token_model.device, token_model.dtype, prompt=prompt,
                             seed=seed, **autoregressive.settings_metadata(options, token_model), warnings=warnings)
    return TokenTimelineResult(images=[pictures[-1]], metadata=metadata, frames=frames,
                               codes=codes[0].tolist(), gif=imaging.gif_bytes(frames, duration_ms=60))
