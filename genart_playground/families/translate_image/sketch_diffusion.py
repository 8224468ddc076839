"""The diffusion heirs of Pix2Pix, for a GPU: ControlNet (a sketch steers Stable Diffusion 1.5 through a
trainable copy of its encoder; Zhang et al., 2023) and InstructPix2Pix (Stable Diffusion retrained to
edit a picture as a written instruction says; Brooks et al., 2023). Building them from their folders,
and one translation with each.
"""

import numpy as np
import torch

from ...devices import make_generator, pick_dtype
from ...diffusion import absent_components, output_warnings, ready


def build_controlnet(folder, spec, device):
    """The `controlnet` kind: the ControlNet's own folder, on the Stable Diffusion pipeline it names
    (`defaults["base"]`, a text-to-image model), loaded through the same checked path."""
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline

    from ...models import loading, registry

    base = registry.resolve(registry.family_of(spec.defaults["base"]), spec.defaults["base"])
    base_folder = loading.local_folder(base)
    loading.check_folder(base_folder, base)
    dtype = pick_dtype(device)
    controlnet = ControlNetModel.from_pretrained(folder, dtype=dtype, use_safetensors=True)
    pipe = StableDiffusionControlNetPipeline.from_pretrained(base_folder, controlnet=controlnet, dtype=dtype,
                                                             use_safetensors=True, **absent_components(base_folder))
    return ready(pipe, dtype, device)


def build_instruct(folder, spec, device):
    """The `instruct-pix2pix` kind: a whole StableDiffusionInstructPix2PixPipeline folder."""
    from diffusers import StableDiffusionInstructPix2PixPipeline

    dtype = pick_dtype(device)
    pipe = StableDiffusionInstructPix2PixPipeline.from_pretrained(folder, dtype=dtype, use_safetensors=True,
                                                                  **absent_components(folder))
    return ready(pipe, dtype, device)


def translate(pipe, spec, picture, *, prompt: str, seed: int, progress=None) -> tuple[np.ndarray, list[str]]:
    """One translation of `picture` (PIL, already the model's size): pixels (1, H, W, 3) in [0, 1] and
    warnings. ControlNet draws what `prompt` says where the sketch's lines are; InstructPix2Pix edits the
    picture as `prompt` instructs."""
    steps = spec.defaults.get("steps", 20)

    def on_step_end(pipe, step, timestep, callback_kwargs):
        if progress is not None:
            progress((step + 1) / steps, f"Step {step + 1}/{steps}")
        return callback_kwargs

    options = {"prompt": prompt, "image": picture, "num_inference_steps": steps, "output_type": "np",
               "guidance_scale": spec.defaults.get("guidance", 7.5), "generator": make_generator(seed),
               "callback_on_step_end": on_step_end}
    if "image_guidance" in spec.defaults:  # InstructPix2Pix: how closely to keep the input picture
        options["image_guidance_scale"] = spec.defaults["image_guidance"]
    with torch.inference_mode():
        output = pipe(**options)
    return output.images, output_warnings(output, spec.name)
