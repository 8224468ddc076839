"""Image translation: a sketch becomes a picture (Pix2Pix, CycleGAN), or a picture its sketch (CycleGAN),
and for CycleGAN the way back, with how close it came to the input."""

import numpy as np
import torch
from PIL import Image

from ... import checks, imaging, metrics, uploads
from ...data.directions import DIRECTIONS, SKETCH_TO_PICTURE
from ...models import registry
from ...models.cache import cache
from ...results import TranslationResult, base_metadata


def check_direction(direction, spec) -> str:
    """The direction asked for (sketch_to_picture when none), if this model learnt it."""
    direction = checks.check_choice("direction", SKETCH_TO_PICTURE if direction is None else direction, DIRECTIONS)
    learnt = [way for way in DIRECTIONS if registry.can(spec, way)]
    if direction not in learnt:
        raise ValueError(f"`direction` {direction!r}: {spec.name} learnt {' and '.join(learnt)} only "
                         f"(a {spec.kind} model); a CycleGAN (builtin/shapes-cyclegan) goes both ways.")
    return direction


def paper_colour(image: Image.Image) -> tuple[int, ...]:
    """The median colour of the one-pixel border: the paper a sketch is drawn on."""
    pixels = np.asarray(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return tuple(int(v) for v in np.median(border, axis=0))


def to_model_size(image: Image.Image, size: int) -> tuple[Image.Image, list[str]]:
    """Pad to a square with the paper's colour (nothing drawn is cut off), then shrink by averaging (a
    line keeps its share of each pixel, as the training sketches were drawn); say what was done."""
    notes = []
    width, height = image.size
    if width != height:
        side = max(width, height)
        square = Image.new("RGB", (side, side), paper_colour(image))
        square.paste(image, ((side - width) // 2, (side - height) // 2))
        image = square
        notes.append(f"padded from {width}×{height} to {side}×{side} with the border's colour")
    if image.size != (size, size):
        notes.append(f"resized from {image.width}×{image.height} to {size}×{size}, the size the model takes")
        image = image.resize((size, size), Image.BOX if image.width >= size else Image.BICUBIC)
    return image, notes


@torch.inference_mode()
def translate_image(image, *, model=None, direction=None, seed=0, prompt=None, progress=None) -> TranslationResult:
    """`prompt`: for the diffusion heirs only, what ControlNet draws along the sketch, or the instruction
    InstructPix2Pix follows (the model's own default when None); the GANs take none."""
    # 1. Check inputs: options first (they cost nothing), then the picture (its pixel count before decoding)
    spec = registry.resolve("translate_image", model)
    direction = check_direction(direction, spec)
    seed = checks.check_seed("seed", seed)
    diffusion = registry.can(spec, "denoise")
    if prompt is not None and not diffusion:
        raise ValueError(f"`prompt`: {spec.name} takes no prompt (a {spec.kind} model translates the picture alone).")
    prompt = checks.check_prompt("prompt", spec.defaults.get("prompt", "") if prompt is None else prompt)
    image = checks.check_image("image", uploads.open_if_file(image))
    notes = uploads.upload_notes(image)

    # 2. Get the cached translator
    translator = cache.load("translate_image", spec.name, progress=progress)
    size = spec.defaults.get("size") or translator.image_size
    device, dtype = (translator.device, translator.dtype) if diffusion else _placement(translator)

    # 3. Fit the picture to the model: square, then its size
    picture, resized = to_model_size(imaging.to_rgb(image), size)
    notes += resized

    # 4. Translate; a two-way model also translates back. The GANs draw no noise: the same input always
    #    gives the same pixels, and the seed is only recorded; the diffusion heirs draw theirs from it.
    if progress is not None:
        progress(0.0, "Translating")
    cycle, scores, directions = None, {}, [direction]
    if diffusion:
        from .sketch_diffusion import translate

        pixels, warnings = translate(translator, spec, picture, prompt=prompt, seed=seed, progress=progress)
        images = [Image.fromarray((pixels[0] * 255).round().clip(0, 255).astype(np.uint8))]
    else:
        images, cycle, scores, warnings = _with_gan(translator, spec.name, picture, direction, progress)
        directions = list(translator.directions)
    if progress is not None:
        progress(1.0, "Done")

    # 5. Return the translation, what the model saw, and how to reproduce it
    metadata = base_metadata("translate_image", spec, device, dtype, direction=direction, seed=seed,
                             **({"prompt": prompt} if diffusion else {}), size=list(image.size),
                             model_size=[size, size], directions=directions, notes=notes, warnings=warnings)
    return TranslationResult(images=images, metadata=metadata, input=picture, cycle=cycle, metrics=scores)


def _placement(module) -> tuple:
    parameter = next(module.parameters())
    return parameter.device, parameter.dtype


def _with_gan(translator, name: str, picture: Image.Image, direction: str, progress) -> tuple:
    """The translation, and for a two-way model the way back and its PSNR against `picture`."""
    device, dtype = _placement(translator)
    out = translator(imaging.to_tensor(picture).to(device, dtype), direction).float().cpu().clamp(-1, 1)
    warnings = checks.check_output(out, name, low=-1.0, high=1.0)
    back = next((d for d in translator.directions if d != direction), None)
    if back is None:
        return imaging.to_pil(out), None, {}, warnings
    if progress is not None:
        progress(0.5, "Translating back")
    returned = translator(out.to(device, dtype), back).float().cpu().clamp(-1, 1)
    warnings += checks.check_output(returned, name, low=-1.0, high=1.0)
    scores = {"cycle_psnr": metrics.psnr(imaging.to_tensor(picture), returned)}
    return imaging.to_pil(out), imaging.to_pil(returned)[0], scores, warnings
