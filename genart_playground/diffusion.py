"""The diffusion runtime every diffusion view shares, whatever the denoiser (a UNet or a transformer).

For a loaded pipeline, `runtime(pipe)` gives what each run needs: the lock that keeps one run at a
time on it, the scheduler it was loaded with (each run builds a fresh one from it), its denoiser,
its image-to-image sibling (`from_pipe`: the same weights, no second copy) and later an inpainting
one. The state lives with the pipeline object and goes when the cache drops the pipeline. Only
public attributes of diffusers are used.
"""

import inspect
import json
import threading
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import checks, limits
from .models import registry
from .models.cache import cache
from .schedulers import SCHEDULERS

# What encode_prompt returns, by how many tensors: SD 1.x/2.x; FLUX (no negative: no guidance; its
# text_ids the pipeline makes again); SDXL and SD3 (with pooled embeddings).
EMBEDDING_NAMES = {
    2: ("prompt_embeds", "negative_prompt_embeds"),
    3: ("prompt_embeds", "pooled_prompt_embeds", None),
    4: ("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"),
}


def build_pipeline(folder, spec, device):
    """The `diffusers-pipeline` kind: any text-to-image pipeline diffusers' auto class knows."""
    from diffusers import AutoPipelineForText2Image

    from .devices import pick_dtype

    dtype = pick_dtype(device)
    pipe = AutoPipelineForText2Image.from_pretrained(folder, dtype=dtype, use_safetensors=True,
                                                     **absent_components(folder))
    return ready(pipe, dtype, device)


def ready(pipe, dtype, device):
    """A loaded pipeline made ready to run: its autoencoder decoding in fp32 when the rest is fp16 (fp16
    overflows in SD/SDXL autoencoders and decodes to NaN, black images), no progress bars, on `device`."""
    if getattr(pipe, "vae", None) is not None and dtype == torch.float16:
        pipe.vae.to(torch.float32)
        pipe.vae.config.force_upcast = True
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def absent_components(folder) -> dict:
    """Components a pipeline folder saved as [null, null] (SD3 without its T5 encoder, a pipeline without
    a safety checker) are absent on purpose; from_pretrained wants them named as None."""
    index = json.loads((Path(folder) / "model_index.json").read_text())
    return {name: None for name, value in index.items() if value == [None, None]}


@dataclass
class Runtime:
    pipe_ref: weakref.ref  # weak: the cache owns the pipeline, and the runtime must not keep it alive
    scheduler_class: type
    scheduler_config: dict
    lock: threading.Lock = field(default_factory=threading.Lock)  # one run at a time on these weights
    _siblings: dict = field(default_factory=dict)
    _siblings_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pipe(self):
        return self.pipe_ref()

    @property
    def denoiser(self) -> torch.nn.Module:
        """The network that predicts the noise (or velocity): `unet`, or `transformer` in DiT pipelines."""
        return denoiser_of(self.pipe)

    @property
    def device(self) -> torch.device:
        return self.pipe.device

    @property
    def packs_latents(self) -> bool:
        """FLUX hands its denoiser 2×2 patches of the latents as a sequence, not the latent grid."""
        return type(self.pipe).__name__.startswith("Flux")

    def refuse_packed(self, view: str) -> None:
        if self.packs_latents:
            raise ValueError(f"The {view} reads a pipeline's latent grid; {type(self.pipe).__name__} packs its latents "
                             "into a sequence of patches. Use text to image with this model.")

    @property
    def flow_matching(self) -> bool:
        """Rectified flow (SD3, FLUX): the model predicts a velocity along a straight noise-to-data path."""
        return "FlowMatch" in self.scheduler_class.__name__

    def image_to_image(self):
        return self._sibling("img2img", "AutoPipelineForImage2Image")

    def inpainting(self):
        return self._sibling("inpaint", "AutoPipelineForInpainting")

    def _sibling(self, name: str, auto_class: str):
        with self._siblings_lock:
            if name not in self._siblings:
                import diffusers

                sibling = getattr(diffusers, auto_class).from_pipe(self.pipe)
                sibling.set_progress_bar_config(disable=True)
                self._siblings[name] = sibling
            return self._siblings[name]

    def default_size(self) -> int:
        return self.denoiser.config.sample_size * self.pipe.vae_scale_factor

    def largest_side(self) -> int | None:
        """The largest side the denoiser can draw where its position table bounds it (an SD3 transformer's
        pos_embed_max_size patches); None where nothing does (a UNet, FLUX's rotary positions)."""
        patches, patch = self.denoiser.config.get("pos_embed_max_size"), self.denoiser.config.get("patch_size")
        return patches * patch * self.pipe.vae_scale_factor if patches and patch else None

    def schedulers(self) -> list[str]:
        """The scheduler names whose classes the pipeline's own scheduler lists as compatible."""
        original = self.scheduler_class.from_config(self.scheduler_config)
        compatible = {cls.__name__ for cls in original.compatibles} | {self.scheduler_class.__name__}
        return [name for name, (cls, _) in SCHEDULERS.items() if cls in compatible]

    def make_scheduler(self, name: str | None, spec_defaults: dict):
        """A fresh scheduler built from the pipeline's original one: schedulers keep per-run state,
        and one run's choice (Karras sigmas, say) must not leak into the next run's default."""
        import diffusers

        overrides = {k: v for k, v in spec_defaults.items() if k == "timestep_spacing"}
        if name is None:
            return self.scheduler_class.from_config(self.scheduler_config, **overrides)
        cls_name, extra = SCHEDULERS[name]
        return getattr(diffusers, cls_name).from_config(self.scheduler_config, **overrides, **extra)

    def guidance_on(self, guidance: float) -> bool:
        """Whether the pipeline runs classifier-free guidance: above 1, unless the model has guidance
        built in (an LCM's time_cond_proj_dim)."""
        return guidance > 1 and getattr(self.denoiser.config, "time_cond_proj_dim", None) is None

    def encode_prompt(self, prompt: str, negative_prompt: str, guidance_on: bool, spec=None) -> dict:
        """encode_prompt's outputs, by the names the pipeline takes them back under (with the
        pipeline options `spec` declares, such as the DiT's `max_sequence_length`)."""
        options = {"prompt": prompt, "device": self.device, "num_images_per_prompt": 1,
                   "do_classifier_free_guidance": guidance_on, "negative_prompt": negative_prompt or None,
                   **(pipeline_options(spec, self.pipe.encode_prompt) if spec is not None else {})}
        parameters = inspect.signature(self.pipe.encode_prompt).parameters
        # SD3 and SDXL take a prompt per text encoder; None uses the first prompt for all. FLUX has no
        # guidance and no negative prompt to encode.
        options.update({name: None for name in ("prompt_2", "prompt_3") if name in parameters})
        outputs = self.pipe.encode_prompt(**{k: v for k, v in options.items() if k in parameters})
        if len(outputs) not in EMBEDDING_NAMES:
            raise ValueError(f"This pipeline's prompt embeddings are not known ({type(self.pipe).__name__}).")
        return {name: value for name, value in zip(EMBEDDING_NAMES[len(outputs)], outputs)
                if name is not None and value is not None}

    def latent_shape(self, width: int, height: int) -> tuple[int, int, int, int]:
        factor = self.pipe.vae_scale_factor
        return 1, self.denoiser.config.in_channels, height // factor, width // factor


def pipeline_options(spec: registry.ModelSpec, function) -> dict:
    """The call options a model needs beyond the shared settings (`defaults["pipeline_options"]`), those
    `function` takes: the built-in DiT was trained with one zero token where SD3 puts T5's, not 256."""
    wanted = spec.defaults.get("pipeline_options", {})
    return {k: v for k, v in wanted.items() if k in inspect.signature(function).parameters}


def denoiser_of(pipe) -> torch.nn.Module:
    denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    if denoiser is None:
        raise ValueError(f"{type(pipe).__name__} has neither a `unet` nor a `transformer`.")
    return denoiser


_RUNTIMES: "weakref.WeakKeyDictionary[object, Runtime]" = weakref.WeakKeyDictionary()
_RUNTIMES_LOCK = threading.Lock()


def runtime(pipe) -> Runtime:
    """The pipeline's runtime, made on first use and dropped with the pipeline."""
    with _RUNTIMES_LOCK:
        found = _RUNTIMES.get(pipe)
        if found is None:
            found = Runtime(weakref.ref(pipe), type(pipe.scheduler), pipe.scheduler.config)
            _RUNTIMES[pipe] = found
        return found


@dataclass(frozen=True)
class Options:
    """The checked settings every run of a text-to-image pipeline shares (text_to_image, the
    denoising timeline, the diffusion walk); width and height are None until the model fills them in."""
    spec: registry.ModelSpec
    negative_prompt: str
    steps: int
    guidance: float
    width: int | None
    height: int | None
    scheduler: str | None


def check_options(model, negative_prompt, steps, guidance, width, height, scheduler) -> Options:
    """Model-independent bounds first, so absurd values cost no model work."""
    negative_prompt = checks.check_prompt("negative_prompt", negative_prompt or "")
    spec = registry.resolve("text_to_image", model)
    if not registry.can(spec, "denoise"):
        raise ValueError(f"{spec.name} writes its picture token by token and has no denoising steps: this view is "
                         "for diffusion models (its own is the token timeline).")
    steps = checks.check_int("steps", steps if steps is not None else spec.defaults.get("steps", 25),
                             1, limits.MAX_STEPS)
    guidance = checks.check_float("guidance", guidance if guidance is not None else spec.defaults.get("guidance", 7.5),
                                  0.0, limits.MAX_GUIDANCE)
    if width is not None:
        width = checks.check_size("width", width)
    if height is not None:
        height = checks.check_size("height", height)
    scheduler = scheduler if scheduler is not None else spec.defaults.get("scheduler")
    if scheduler is not None:
        checks.check_choice("scheduler", scheduler, list(SCHEDULERS))
    return Options(spec, negative_prompt, steps, guidance, width, height, scheduler)


def check_work(what: str, options: Options, count: int) -> None:
    """A public server's bound on one request's work, from the settings alone (the model's own size where
    none is given, 512 when the registry does not say), before the model loads."""
    from .devices import pick_device

    checks.check_work(what, steps=options.steps, count=count, **work_size(options.spec, options.width, options.height),
                      device=pick_device().type)


def work(options: Options, count: int) -> int:
    """`count` runs' work at these options, as the public budget counts it (checks.work)."""
    return checks.work(steps=options.steps, count=count, **work_size(options.spec, options.width, options.height))


def check_total_work(what: str, total: int) -> None:
    """A public server's bound on a request made of many runs (a grid, a sweep): their work together."""
    from .devices import pick_device

    checks.check_budget(what, total, pick_device().type)


def work_size(spec, width=None, height=None) -> dict:
    """The size a run's work is counted at: the one asked for, else the model's own (512 where the registry
    does not say)."""
    side = spec.defaults.get("width") or 512
    return {"width": width or side, "height": height or spec.defaults.get("height") or side}


def load_pipeline(options: Options, progress=None):
    """The cached pipeline's runtime (its lock, original scheduler, denoiser, siblings), with the
    options' size filled in from the model where the caller left it out."""
    spec = options.spec
    rt = runtime(cache.load("text_to_image", spec.name, progress=progress))
    if options.scheduler is not None and options.scheduler not in rt.schedulers():
        fitting = ", ".join(rt.schedulers()) or "none: leave it to the model"
        raise ValueError(f"`scheduler` {options.scheduler!r} does not fit {spec.name}; use one of {fitting}.")
    width = options.width or spec.defaults.get("width") or rt.default_size()
    height = options.height or spec.defaults.get("height") or rt.default_size()
    largest = rt.largest_side()
    if largest is not None and max(width, height) > largest:
        raise ValueError(f"{spec.name} draws pictures of at most {largest}×{largest} px (its transformer knows "
                         f"that many positions), got {width}×{height}.")
    return rt, replace(options, width=width, height=height)


def denoise(rt: Runtime, options, *, on_step=None, pipe=None, **inputs):
    """One run of `pipe` (default: the text-to-image pipeline) with a fresh scheduler; `inputs` are the
    prompt (or its embeddings), the generators and what else the caller adds. `options` are the
    checked settings (steps, guidance, width, height, scheduler, spec). The caller holds `rt.lock`.

    `on_step(pipeline, step, timestep, callback_kwargs)` runs after each step; it stops the run by
    raising (a cancel), and the exception reaches the caller at once."""
    pipe = pipe or rt.pipe

    def on_step_end(pipeline, step, timestep, callback_kwargs):
        if on_step is not None:
            on_step(pipeline, step, timestep, callback_kwargs)
        return callback_kwargs

    pipe.scheduler = rt.make_scheduler(options.scheduler, options.spec.defaults)
    size = {} if "image" in inputs else {"width": options.width, "height": options.height}
    return pipe(num_inference_steps=options.steps, guidance_scale=options.guidance, output_type="np",
                callback_on_step_end=on_step_end, **size, **pipeline_options(options.spec, pipe.__call__), **inputs)


def output_warnings(output, name: str) -> list[str]:
    """NaN is an error; an all-black image, or one the safety checker blacked out, is named."""
    warnings = checks.check_output(output.images, name)
    flagged = getattr(output, "nsfw_content_detected", None)
    if flagged and any(flagged):
        warnings.append("the model's safety checker blacked out a flagged image")
    return warnings


SIZE_RATIO = 1.5  # a side this many times larger or smaller than the trained size gets a warning


def request_warnings(rt: "Runtime", options: Options, *prompts: str) -> list[str]:
    """What the model cannot do with this request, said in the result: words its closed vocabulary does
    not have, a prompt longer than its tokenizer reads, a size far from the one it was trained at."""
    warnings = []
    tokenizer = getattr(rt.pipe, "tokenizer", None)
    for prompt in (p for p in prompts if p):
        if tokenizer is not None:
            warnings += prompt_warnings(tokenizer, prompt, closed=bool(options.spec.defaults.get("closed_vocabulary")))
    trained = (options.spec.defaults.get("width") or rt.default_size(),
               options.spec.defaults.get("height") or rt.default_size())
    asked = (options.width or trained[0], options.height or trained[1])
    if any(a > t * SIZE_RATIO or a * SIZE_RATIO < t for a, t in zip(asked, trained)):
        warnings.append(f"{options.spec.name} was trained at {trained[0]}×{trained[1]}; at {asked[0]}×{asked[1]} it "
                        "draws things at the wrong scale (often a repeating pattern or a cropped fragment).")
    return warnings


def prompt_warnings(tokenizer, prompt: str, *, closed: bool) -> list[str]:
    warnings = []
    if closed:  # every word it knows is one token; any other word falls back to letters it never learned
        words = dict.fromkeys(w.strip(".,;:!?\"'()").lower() for w in prompt.split())
        unknown = [w for w in words if w and len(tokenizer.tokenize(w)) > 1]
        if unknown:
            warnings.append(f"the model does not know the word{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(repr(w) for w in unknown)}: it was trained on a closed list of words, "
                            "and ignores the rest.")
    tokens, limit = tokenizer.tokenize(prompt), tokenizer.model_max_length - 2  # less the start and end tokens
    if len(tokens) > limit:
        kept = tokenizer.decode(tokenizer.convert_tokens_to_ids(tokens[:limit])).strip()
        warnings.append(f"the prompt is {len(tokens)} tokens and the model reads {limit}: it used only \"{kept}\".")
    return warnings


def to_pil(images: np.ndarray) -> list[Image.Image]:
    return [Image.fromarray((image * 255).round().clip(0, 255).astype(np.uint8)) for image in images]


def decode_latents(vae, latents: torch.Tensor) -> torch.Tensor:
    """Latents as the pipeline keeps them -> pixels in [-1, 1], as the pipeline decodes its final ones
    (SD3's autoencoder also shifts its latents)."""
    latents = latents / vae.config.scaling_factor + (getattr(vae.config, "shift_factor", None) or 0.0)
    return vae.decode(latents.to(vae.device, vae.dtype)).sample
