"""What the adapters return: images plus everything needed to reproduce them."""

import functools
import platform
from dataclasses import dataclass, field

from PIL import Image


@dataclass
class Result:
    images: list[Image.Image]
    metadata: dict


@dataclass
class Samples:
    """What a family's `sample` or `sample_prompts` capability drew, for the evaluation lab to judge."""
    images: list[Image.Image]
    named: list[str] | None  # what each picture should show, as a prompt (a conditional GAN's codes); None: unknown
    seconds: float  # drawing alone, loading excluded
    evaluations: int  # network evaluations per picture (steps, ×2 with guidance)
    settings: dict  # the settings they were drawn with (steps, guidance, size, ...)


@dataclass
class TextToImageResult(Result):
    pass


@dataclass
class StyleTransferResult(Result):
    losses: dict[str, list[float]] = field(default_factory=dict)  # "content", "style", "total" per step
    intermediates: list[Image.Image] = field(default_factory=list)


@dataclass
class InterpolationResult(Result):
    gif: bytes = b""  # the frames as an animated GIF
    latent_norms: list[float] = field(default_factory=list)  # each frame's latent vector length (GAN walks)
    labels: list[str] = field(default_factory=list)  # what each frame's latent codes name (conditional GANs)
    mean_image: Image.Image | None = None  # a StyleGAN's mean style w_avg drawn: where truncation pulls to
    expected_norm: float | None = None  # where a Gaussian z's length concentrates (truncation × √latent_dim)

    @functools.cached_property
    def mp4(self) -> bytes:
        """The same frames as an H.264 MP4, encoded on first use: for a small GAN that costs
        several times more than drawing the frames, and most callers want the GIF or the frames."""
        from .imaging import mp4_bytes

        return mp4_bytes(self.images)


@dataclass
class StyleMixingResult(Result):
    """`images`: the mixed pictures, row-major (a row per coarse seed, a column per fine seed)."""
    grid: Image.Image | None = None  # the StyleGAN paper's figure: fine seeds on top, coarse seeds on the left
    seed_images: list[Image.Image] = field(default_factory=list)  # the coarse seeds' own pictures, then the fine's
    sources: list[dict] = field(default_factory=list)  # per mixed picture and attribute: coarse, fine, both, neither
    controls: list[dict] = field(default_factory=list)  # per crossover: the share of each attribute from the coarse seed


@dataclass
class VaeResult(Result):
    metrics: dict[str, float] = field(default_factory=dict)  # psnr, ssim, compression_ratio
    error_map: Image.Image | None = None
    latent_channels: Image.Image | None = None  # channel_maps as one grid
    channel_maps: list[Image.Image] = field(default_factory=list)  # one heat map per latent channel


@dataclass
class TranslationResult(Result):
    """`images[0]` is the translation; a CycleGAN also gives the way back."""
    input: Image.Image | None = None  # what the model saw: the input padded to a square and resized
    cycle: Image.Image | None = None  # the translation translated back (CycleGAN); None for one-way models
    metrics: dict[str, float] = field(default_factory=dict)  # cycle_psnr: the round trip against `input`, dB


@dataclass
class TimelineResult(Result):
    """One text-to-image run step by step; `images` is its final image (text_to_image's, pixel for pixel)."""
    noisy: list[Image.Image] = field(default_factory=list)  # the latents after each step, decoded
    predicted: list[Image.Image] = field(default_factory=list)  # the clean image the model predicted at each step
    guidance_maps: list[Image.Image] = field(default_factory=list)  # |cond − uncond| per step; empty without guidance
    timesteps: list[float] = field(default_factory=list)
    gif: bytes = b""  # per step: noisy | predicted, side by side


@dataclass
class EvaluationResult(Result):
    """`images`: the pictures judged; `metrics`: one figure per measure; `table`: one row per prompt, worst first."""
    metrics: dict[str, float] = field(default_factory=dict)
    table: list[dict] = field(default_factory=list)
    mode_collapse: dict = field(default_factory=dict)  # the combinations' histogram and the verdict
    judgements: list[str] = field(default_factory=list)  # what the checker read in each picture, in words
    prompts: list[str] = field(default_factory=list)  # each picture's prompt (or a conditional GAN's codes)


@dataclass
class ComparisonResult:
    results: dict[str, EvaluationResult]  # model name -> its evaluation
    table: list[dict]  # one row per model
    metadata: dict


def versions() -> dict[str, str]:
    import diffusers
    import torch
    import transformers

    from . import __version__

    return {"genart_playground": __version__, "torch": torch.__version__, "diffusers": diffusers.__version__,
            "transformers": transformers.__version__, "python": platform.python_version()}


def base_metadata(task: str, spec, device, dtype, **params) -> dict:
    return {"task": task, "model": spec.name, **params, "device": str(device),
            "dtype": str(dtype).replace("torch.", ""), "generator_device": "cpu", "versions": versions()}


@dataclass
class TokenTimelineResult(Result):
    """One token model run, token by token; `images` is its final picture (text_to_image's, pixel for pixel)."""
    frames: list[Image.Image] = field(default_factory=list)  # frame i: the picture after i tokens (frame 0: none)
    codes: list[list[int]] = field(default_factory=list)  # the grid of codebook indices written, row by row
    gif: bytes = b""


@dataclass
class CodebookResult(Result):
    """A picture as a token model's autoencoder sees it. `images`: [the picture as read (64×64), its
    reconstruction from the codes, and, after a swap, the reconstruction with one code changed]."""
    codes: list[list[int]] = field(default_factory=list)  # the grid of codebook indices, row by row
    grid: Image.Image | None = None  # the reconstruction enlarged, with the token grid drawn on it
    atlas: Image.Image | None = None  # every code's own 8×8 patch, in rows of 32, code 0 at the top left
    metrics: dict[str, float] = field(default_factory=dict)  # psnr of the reconstruction (and of the swap)


@dataclass
class FamilyComparisonResult(Result):
    """One prompt and seed through several text-to-image models: `images[i]` is `rows[i]["model"]`'s."""
    rows: list[dict] = field(default_factory=list)  # model, family, seconds, network_evaluations, verdict, right


@dataclass
class StepsSweepResult(Result):
    """Quality against steps: `rows` of (model, steps, quality); `images`: one picture per (model, steps)."""
    rows: list[dict] = field(default_factory=list)
