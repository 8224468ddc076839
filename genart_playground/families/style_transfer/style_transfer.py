"""Style transfer: the content image's layout, drawn in the style of an image or of a prompt.

Two methods:
- "gatys" (Gatys, Ecker & Bethge 2016): optimise the pixels, starting from the content image, so
  that deep features match the content image's and their Gram matrices (which features occur
  together, wherever they are: texture and palette) match the style image's. The features come
  from VGG19 when its weights are here, and offline from a fixed-seed bank of random filters.
- "img2img": noise the content image part of the way and let a text-to-image model denoise it
  towards a style prompt (SDEdit, Meng et al. 2022), on the already loaded pipeline's weights.

`strength` is how much style, in [0, 1]. For gatys it sets the style loss weight on a log scale,
`style_weight = 10 ** (4 * strength - 1)`: 0 -> 0.1 (the content, barely touched), 0.25 -> 1,
0.5 -> 10 (default), 1 -> 1000 (the style's texture, with only a trace of the layout). Both losses
are relative errors (divided by the target's own mean square), so the same strength means about
the same balance for VGG19 and the random filters. For img2img it is the denoising strength:
the fraction of the noise schedule that is redrawn.

`on_step(step, losses, image)` watches a run as it goes (the style tab draws its live plot with it).
For gatys it is called once before the first step (step 0: no losses yet, the starting image) and
after every step with the losses so far ({"content": [...], "style": [...], "total": [...]}, one
value per step, a copy the callee may keep) and, at the steps kept as intermediates, that image
(else None): the same images, in the same order, as the result's `intermediates`. For img2img the
losses are {} and, at up to SNAPSHOTS - 1 evenly spaced denoising steps, the image is the current
latents decoded (still noisy early on): one extra VAE decode each, only when `on_step` is given.
"""

import math

import torch
import torch.nn.functional as F
from PIL import Image

from ... import checks, devices, diffusion, imaging, limits, uploads
from ...devices import make_generator
from . import DEFAULT_STRENGTH, METHODS
from ...models import registry
from ...models.cache import cache
from ...results import StyleTransferResult, base_metadata

BUILTIN_FEATURES = "builtin/random-filters"
VGG19 = "timm/vgg19.tv_in1k"
DEFAULT_STEPS = {"gatys": 100, "img2img": 25}  # when a model's spec does not say
DEFAULT_SIZE = 256
LEARNING_RATE = 0.2  # Adam, in pixel units of [-1, 1]: large at first, then cosine decay to 5% for detail
INIT_NOISE = 0.1  # std of the seed's noise added to the start: on flat colour every pixel would move alike
SNAPSHOTS = 6  # intermediate images for the teaching view, the start and the result included
INPUT_IMAGE_NOTE = "an input image (not stored in the metadata)"


# ---------------------------------------------------------------------------------------------
# Checks and sizes
# ---------------------------------------------------------------------------------------------

def _method(method, style) -> str:
    if method is None:
        return "img2img" if isinstance(style, str) else "gatys"
    return checks.check_choice("method", method, METHODS)


def _style_model(model):
    """`model`, or the default: VGG19 when its weights are already in the local Hugging Face cache
    (Gatys' own features), else the configured default (the random filters unless set otherwise)."""
    if model is not None:
        return model
    configured = registry.default_model("style_transfer")
    if configured == BUILTIN_FEATURES and _in_local_cache(VGG19):
        return VGG19
    return configured


def _in_local_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    # A file lookup on disk: no network, so the default never waits on the Hub.
    return isinstance(try_to_load_from_cache(repo_id, "model.safetensors"), str)


def _fit_longest(image: Image.Image, size: int, multiple: int = 1) -> tuple[int, int]:
    """Width and height with the longest side `size` and the aspect kept, rounded to `multiple`."""
    width, height = image.size
    scale = size / max(width, height)
    return (max(multiple, round(width * scale / multiple) * multiple),
            max(multiple, round(height * scale / multiple) * multiple))


def _check_shape(name: str, image: Image.Image, size: int) -> tuple[int, int]:
    # VGG19's deepest features are 1/16 of the image: a sliver of a few pixels has none.
    width, height = _fit_longest(image, size)
    if min(width, height) < limits.MIN_SIZE:
        raise ValueError(f"`{name}` is too elongated: at size {size} its shorter side would be "
                         f"{min(width, height)} px, and it must be at least {limits.MIN_SIZE} px. "
                         "Crop it or raise `size`.")
    return width, height


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False, got {value!r}.")
    return value


def _check_progress(progress):
    if progress is not None and not callable(progress):
        raise ValueError(f"`progress` must be a callable(fraction, message) or None, got {type(progress).__name__}.")
    return progress


def _check_on_step(on_step):
    if on_step is not None and not callable(on_step):
        raise ValueError(f"`on_step` must be a callable(step, losses, image) or None, got {type(on_step).__name__}.")
    return on_step


# ---------------------------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------------------------

def keep_content_colours(result: Image.Image, content: Image.Image) -> Image.Image:
    """The result's luminance with the content's chroma: "luminance-only transfer" (Gatys et al. 2016,
    "Preserving color in neural artistic style transfer"). Works after either method."""
    luma, _, _ = result.convert("YCbCr").split()
    _, cb, cr = content.resize(result.size, Image.LANCZOS).convert("YCbCr").split()
    return Image.merge("YCbCr", (luma, cb, cr)).convert("RGB")


# ---------------------------------------------------------------------------------------------
# Gatys
# ---------------------------------------------------------------------------------------------

def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C): how often each pair of features fires together, per position."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def _relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(value, target) / (target.pow(2).mean() + 1e-8)


def _losses(net, image, content_targets, style_targets):
    features = net(image)
    content = sum(_relative_error(features[k], t) for k, t in content_targets.items()) / len(content_targets)
    style = sum(_relative_error(gram(features[k]), t) for k, t in style_targets.items()) / len(style_targets)
    return content, style


def _snapshot_steps(steps: int) -> set[int]:
    """Steps after which to keep an intermediate image, evenly spaced and ending with the last."""
    return {max(1, round(steps * k / (SNAPSHOTS - 1))) for k in range(1, SNAPSHOTS)}


def _optimise(net, content, style, *, steps, style_weight, seed, progress, on_step, to_image):
    """Adam on the pixels against the content features and the style's Gram matrices.

    `to_image` turns the (1, 3, H, W) pixels into the PIL image kept as an intermediate."""
    with torch.no_grad():
        content_targets = {k: v for k, v in net(content).items() if k in net.content_layers}
        style_targets = {k: gram(v) for k, v in net(style).items() if k in net.style_layers}
    noise = torch.randn(content.shape, generator=make_generator(seed)).to(content.device)
    image = (content + INIT_NOISE * noise).clamp(-1, 1).requires_grad_(True)
    optimiser = torch.optim.Adam([image], lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps, eta_min=LEARNING_RATE * 0.05)
    losses = {"content": [], "style": [], "total": []}
    intermediates = [to_image(image)]
    keep = _snapshot_steps(steps)
    if on_step is not None:
        on_step(0, {key: [] for key in losses}, intermediates[0])
    for step in range(1, steps + 1):
        content_loss, style_loss = _losses(net, image, content_targets, style_targets)
        total = content_loss + style_weight * style_loss
        optimiser.zero_grad(set_to_none=True)
        total.backward()
        optimiser.step()
        schedule.step()
        with torch.no_grad():
            image.clamp_(-1, 1)  # stay a valid image: Adam alone would overshoot into unpaintable colours
        for key, value in (("content", content_loss), ("style", style_loss), ("total", total)):
            losses[key].append(float(value.detach()))
        if step in keep:
            intermediates.append(to_image(image))
        if on_step is not None:
            on_step(step, {key: list(values) for key, values in losses.items()},
                    intermediates[-1] if step in keep else None)
        if progress is not None:
            progress(step / steps, f"Step {step}/{steps}: style loss {losses['style'][-1]:.3g}, "
                                   f"content loss {losses['content'][-1]:.3g}")
    return image.detach(), losses, intermediates


def _gatys(content, style, *, model, steps, size, strength, seed, preserve_color, progress, on_step):
    # 1. Check inputs
    checks.check_image("content", content)
    if isinstance(style, str):
        raise ValueError("`style` must be an image for method 'gatys'; a text style needs method 'img2img'.")
    checks.check_image("style", style)
    spec = registry.resolve("style_transfer", _style_model(model))
    if steps is None:
        steps = spec.defaults.get("steps", DEFAULT_STEPS["gatys"])
    steps = checks.check_int("steps", steps, 1, limits.MAX_STYLE_STEPS)
    size = checks.check_int("size", size if size is not None else spec.defaults.get("size", DEFAULT_SIZE),
                            limits.MIN_SIZE, limits.MAX_STYLE_SIZE)
    strength = checks.check_float("strength", strength if strength is not None else DEFAULT_STRENGTH["gatys"],
                                  0.0, 1.0)
    content_size = _check_shape("content", content, size)
    style_size = _check_shape("style", style, size)
    # Each optimisation step is a forward and a backward pass (about three of a denoising step's work).
    checks.check_work("style transfer", steps=3 * steps, count=1, width=content_size[0], height=content_size[1],
                      device=devices.pick_device().type)

    # Steps 2-4 run with gradients on, even when the caller is in inference mode: weights loaded
    # and images made in inference mode cannot take part in a backward pass.
    with torch.inference_mode(False), torch.enable_grad():
        # 2. Get the cached feature network
        net = cache.load("style_transfer", spec.name, progress=progress)
        device = next(iter(net.buffers()), torch.empty(0)).device

        # 3. Both images at the working size: the style's strokes keep their scale relative to the result
        content_rgb = imaging.to_rgb(content).resize(content_size, Image.LANCZOS)
        style_rgb = imaging.to_rgb(style).resize(style_size, Image.LANCZOS)
        content_x = imaging.to_tensor(content_rgb).to(device)
        style_x = imaging.to_tensor(style_rgb).to(device)

        # 4. Optimise the pixels; the intermediates get the result's colours as they are taken
        style_weight = 10 ** (4 * strength - 1)

        def to_image(x):
            picture = imaging.to_pil(x)[0]
            return keep_content_colours(picture, content_rgb) if preserve_color else picture

        image, losses, intermediates = _optimise(net, content_x, style_x, steps=steps, style_weight=style_weight,
                                                 seed=seed, progress=progress, on_step=on_step, to_image=to_image)

    # 5. Colours, and the recipe
    warnings = checks.check_output(image, spec.name, low=-1.0, high=1.0)
    result = to_image(image)
    metadata = base_metadata(
        "style_transfer", spec, device, torch.float32, method="gatys", steps=steps, size=size,
        width=result.width, height=result.height, strength=strength, seed=seed, preserve_color=preserve_color,
        content=INPUT_IMAGE_NOTE, style=INPUT_IMAGE_NOTE, style_size=list(style_size),
        style_weight=style_weight, optimizer="adam", learning_rate=LEARNING_RATE, lr_schedule="cosine to 5%",
        init="content + noise", init_noise=INIT_NOISE, content_layers=list(net.content_layers),
        style_layers=list(net.style_layers), final_losses={k: v[-1] for k, v in losses.items()}, warnings=warnings)
    return StyleTransferResult(images=[result], metadata=metadata, losses=losses, intermediates=intermediates)


# ---------------------------------------------------------------------------------------------
# img2img
# ---------------------------------------------------------------------------------------------

def _decode_preview(pipeline, latents) -> Image.Image:
    """The latents of a denoising step as a picture, as the pipeline decodes its final latents."""
    decoded = diffusion.decode_latents(pipeline.vae, latents[:1])
    return pipeline.image_processor.postprocess(decoded.float(), output_type="pil")[0]


def _img2img(content, style, *, model, steps, size, strength, seed, preserve_color, progress, on_step):
    # 1. Check inputs
    checks.check_image("content", content)
    prompt = checks.check_prompt("style", style, allow_empty=False)
    spec = registry.resolve("text_to_image", model)
    strength = checks.check_float("strength", strength if strength is not None else DEFAULT_STRENGTH["img2img"],
                                  0.0, 1.0)
    if steps is None:
        # Few-step models default to 1 step; the pipeline runs int(steps * strength) of them.
        steps = max(spec.defaults.get("steps", DEFAULT_STEPS["img2img"]), math.ceil(1 / max(strength, 1e-3)))
    steps = checks.check_int("steps", steps, 1, limits.MAX_STEPS)
    if int(steps * strength) < 1:
        raise ValueError(f"`steps` × `strength` must be at least 1 (the pipeline runs int(steps × strength) "
                         f"denoising steps), got {steps} × {strength}.")
    if size is not None:
        size = checks.check_size("size", size)
    guidance = spec.defaults.get("guidance", 7.5)
    side = size or spec.defaults.get("width") or 512
    checks.check_work("style transfer", steps=int(steps * strength), count=1, width=side, height=side,
                      device=devices.pick_device().type)

    # 2. Get the cached pipeline's runtime: its image-to-image sibling (the same weights) and its lock
    rt = diffusion.runtime(cache.load("text_to_image", spec.name, progress=progress))
    pipe, img2img = rt.pipe, rt.image_to_image()
    if size is None:
        size = checks.check_size("size", spec.defaults.get("width") or rt.default_size())
    width, height = _fit_longest(content, size, multiple=8)

    # 3. The content at a size the autoencoder takes (both sides multiples of 8)
    content_rgb = imaging.to_rgb(content).resize((width, height), Image.LANCZOS)
    denoising_steps = int(steps * strength)

    previews = _snapshot_steps(denoising_steps)

    def on_step_end(pipeline, step, timestep, callback_kwargs):
        if on_step is not None:
            image = None
            if step + 1 in previews:
                image = _decode_preview(pipeline, callback_kwargs["latents"])
                image = keep_content_colours(image, content_rgb) if preserve_color else image
            on_step(step + 1, {}, image)
        if progress is not None:
            progress(min(1.0, (step + 1) / denoising_steps), f"Denoising step {step + 1}/{denoising_steps}")
        return callback_kwargs

    # 4. Denoise from the partly noised content, one CPU generator for the noise
    with torch.inference_mode(), rt.lock:
        img2img.scheduler = rt.make_scheduler(spec.defaults.get("scheduler"), spec.defaults)
        output = img2img(prompt=prompt, image=content_rgb, strength=strength, num_inference_steps=steps,
                         guidance_scale=guidance, generator=make_generator(seed), output_type="np",
                         callback_on_step_end=on_step_end)
    warnings = diffusion.output_warnings(output, spec.name)
    result = diffusion.to_pil(output.images)[0]

    # 5. Colours, and the recipe
    if preserve_color:
        result = keep_content_colours(result, content_rgb)
    metadata = base_metadata(
        "style_transfer", spec, pipe.device, pipe.dtype, method="img2img", steps=steps,
        denoising_steps=denoising_steps, size=size, width=width, height=height, strength=strength, seed=seed,
        preserve_color=preserve_color, guidance=guidance, style=prompt, content=INPUT_IMAGE_NOTE,
        prompt=prompt,  # what the pipeline was prompted with: the PNG's A1111 line starts with it
        scheduler=spec.defaults.get("scheduler") or type(img2img.scheduler).__name__,
        scheduler_class=type(img2img.scheduler).__name__, warnings=warnings)
    return StyleTransferResult(images=[result], metadata=metadata)


# ---------------------------------------------------------------------------------------------
# The adapter
# ---------------------------------------------------------------------------------------------

def style_transfer(content, style, *, model=None, method=None, steps=None, size=None, strength=None, seed=0,
                   preserve_color=False, progress=None, on_step=None) -> StyleTransferResult:
    """Draw `content` (a PIL image) in the style of `style` (a PIL image for "gatys", text for "img2img").

    `size` is the result's longest side in pixels; `strength` is how much style (see the module
    docstring); `model` is a style feature network for gatys, a text-to-image model for img2img.
    `progress(fraction, message)` reports each step; `on_step(step, losses, image)` hands over the
    losses so far and the intermediate images while it runs (see the module docstring).
    """
    method = _method(method, style)
    # Paths and bytes are opened here, their pixel count checked before decoding.
    content = uploads.open_if_file(content)
    style = uploads.open_if_file(style) if method == "gatys" else style
    seed = checks.check_seed("seed", seed)
    preserve_color = _check_bool("preserve_color", preserve_color)
    progress = _check_progress(progress)
    on_step = _check_on_step(on_step)
    run = _gatys if method == "gatys" else _img2img
    return run(content, style, model=model, steps=steps, size=size, strength=strength, seed=seed,
               preserve_color=preserve_color, progress=progress, on_step=on_step)
