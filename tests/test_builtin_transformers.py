"""The SHIPPED transformer built-ins, judged by the project's own checker (issue 15 §4): the rectified-flow
diffusion transformer (a plain StableDiffusion3Pipeline folder) and the token model, each on a small
sample of prompts (bench/quality.py measures the full figures in the model cards)."""

import numpy as np
import pytest
import torch

from genart_playground import codebook_explorer, settings, text_to_image, token_timeline
from genart_playground.data import checker, shapes

pytestmark = pytest.mark.slow  # runs the shipped DiT and token model

DIT, VQGPT = settings.BUILTIN_DIR / "shapes-dit", settings.BUILTIN_DIR / "shapes-vqgpt"
PROMPTS = [("red", "circle"), ("blue", "square"), ("green", "circle"), ("yellow", "triangle"),
           ("purple", "diamond"), ("orange", "square"), ("red", "triangle"), ("blue", "diamond")]
shipped_dit = pytest.mark.skipif(not (DIT / "model_index.json").exists(), reason="shapes-dit is not shipped")
shipped_vqgpt = pytest.mark.skipif(not (VQGPT / "vqgpt.json").exists(), reason="shapes-vqgpt is not shipped")


def right(images, prompts) -> int:
    return sum(checker.judge(image).agrees(color=c, shape=s) for image, (c, s) in zip(images, prompts))


@shipped_dit
def test_the_shipped_dit_is_a_plain_sd3_pipeline_with_a_transformer_and_draws_the_prompt():
    from diffusers import StableDiffusion3Pipeline

    pipe = StableDiffusion3Pipeline.from_pretrained(DIT, text_encoder_3=None, tokenizer_3=None, use_safetensors=True)
    pipe.set_progress_bar_config(disable=True)
    assert getattr(pipe, "unet", None) is None and type(pipe.transformer).__name__ == "SD3Transformer2DModel"
    assert type(pipe.scheduler).__name__ == "FlowMatchEulerDiscreteScheduler"
    images = pipe([f"a {c} {s}" for c, s in PROMPTS], num_inference_steps=8, guidance_scale=4.0, max_sequence_length=1,
                  generator=[torch.Generator().manual_seed(i) for i in range(len(PROMPTS))]).images
    assert images[0].size == (64, 64)
    assert right(images, PROMPTS) >= 7, [checker.judge(image) for image in images]  # 8 of 8 (98.8 % of 160 in its card)


@shipped_dit
def test_the_shipped_dit_places_the_shape_where_the_prompt_says():
    centres = {}
    for phrase in ("on the left", "on the right"):
        images = [text_to_image(f"a large {c} {s} {phrase} on a gray background", model="builtin/shapes-dit",
                                seed=i).images[0] for i, (c, s) in enumerate(PROMPTS[:4])]
        centres[phrase] = np.mean([checker.judge(image).centre or (32.0, 32.0) for image in images], axis=0)
    assert centres["on the right"][0] - centres["on the left"][0] > 12, centres  # 24 px apart in the data


@shipped_vqgpt
def test_the_shipped_token_model_draws_the_prompt_and_its_timeline_ends_on_it():
    """Its floor keeps this checkpoint from getting worse (it draws 5 of these 8 right; 93 % on 160 in its
    card: short prompts are its weak spot), and the timeline exact."""
    images = [text_to_image(f"a {c} {s}", model="builtin/shapes-vqgpt", seed=i).images[0]
              for i, (c, s) in enumerate(PROMPTS)]
    assert right(images, PROMPTS) >= 4, [checker.judge(image) for image in images]
    timeline = token_timeline("a red circle", model="builtin/shapes-vqgpt", seed=0)
    assert np.array_equal(np.asarray(timeline.frames[-1]), np.asarray(images[0]))


@shipped_vqgpt
def test_the_shipped_autoencoder_keeps_what_the_checker_reads():
    scenes = [shapes.sample_scene(__import__("random").Random(f"explorer/{i}"), "heldout") for i in range(8)]
    kept, psnrs = 0, []
    for scene in scenes:
        result = codebook_explorer(shapes.render(scene), model="builtin/shapes-vqgpt")
        judged = checker.judge(result.images[1])
        kept += judged.agrees(color=scene.color, shape=scene.shape, background=scene.background)
        psnrs.append(result.metrics["psnr"])
    # Its floor (here 8 of 8 kept, 29.5 dB mean; 98 % of 256 held-out pictures read the same).
    assert kept >= 7 and min(psnrs) > 18 and np.mean(psnrs) > 28, (kept, psnrs)


def test_the_weights_of_all_built_ins_together_stay_under_43_mb():
    # 40 MB until the normalizing flow (builtin/shapes-flow, 2.9 MB in fp16) joined: a Space's repository and a
    # wheel stay small; raise it only with a model's card saying what its weights buy.
    total = sum(path.stat().st_size for path in settings.BUILTIN_DIR.rglob("*.safetensors"))
    assert total < 43 * 10**6, f"{total / 1e6:.1f} MB"
