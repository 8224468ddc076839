"""A diffusion transformer (SD3's SD3Transformer2DModel, `pipe.transformer`, rectified flow) runs through
every diffusion view: text to image, the denoising timeline, the diffusion walk and img2img."""

import numpy as np
import pytest

from genart_playground import denoising_timeline, diffusion, diffusion_walk, style_transfer, text_to_image


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_the_tiny_pipeline_has_a_transformer_and_no_unet(tiny_dit, fresh_cache):
    rt = diffusion.runtime(fresh_cache.load("text_to_image", tiny_dit))
    assert getattr(rt.pipe, "unet", None) is None and rt.denoiser is rt.pipe.transformer
    assert rt.flow_matching and rt.default_size() == 32
    assert rt.schedulers() == []  # none of the UNet schedulers fits a flow-matching model


def test_text_to_image_same_seed_same_pixels(tiny_dit):
    a = text_to_image("a red circle", model=tiny_dit, seed=3, num_images=2)
    b = text_to_image("a red circle", model=tiny_dit, seed=3, num_images=2)
    assert [image.size for image in a.images] == [(32, 32)] * 2
    assert all(np.array_equal(pixels(x), pixels(y)) for x, y in zip(a.images, b.images))
    assert not np.array_equal(pixels(a.images[0]), pixels(a.images[1]))  # image 1 is seed 4
    assert a.metadata["scheduler_class"] == "FlowMatchEulerDiscreteScheduler"


def test_a_unet_scheduler_is_refused_for_a_transformer(tiny_dit):
    with pytest.raises(ValueError, match="does not fit tests/tiny-dit"):
        text_to_image("a red circle", model=tiny_dit, scheduler="dpm++")


def test_the_timeline_reads_velocities_and_ends_on_the_same_picture(tiny_dit):
    final = text_to_image("a red circle", model=tiny_dit, seed=5).images[0]
    timeline = denoising_timeline("a red circle", model=tiny_dit, seed=5, steps=3)
    assert timeline.metadata["prediction_type"] == "flow"
    assert len(timeline.noisy) == len(timeline.predicted) == len(timeline.guidance_maps) == 3
    assert np.array_equal(pixels(timeline.images[0]), pixels(text_to_image("a red circle", model=tiny_dit, seed=5,
                                                                           steps=3).images[0]))
    # x0 = x_t − σ·v: at the last step σ is near 0, so the prediction is close to the final latents.
    assert np.abs(pixels(timeline.predicted[-1]) - pixels(timeline.noisy[-1])).mean() < \
        np.abs(pixels(timeline.predicted[0]) - pixels(timeline.noisy[0])).mean()
    assert final.size == timeline.images[0].size


def test_the_walk_ends_on_both_text_to_image_pictures(tiny_dit):
    walk = diffusion_walk("a red circle", "a blue square", seed_a=1, seed_b=2, frames=3, model=tiny_dit)
    a = text_to_image("a red circle", model=tiny_dit, seed=1).images[0]
    b = text_to_image("a blue square", model=tiny_dit, seed=2).images[0]
    assert len(walk.images) == 3
    assert np.array_equal(pixels(walk.images[0]), pixels(a)) and np.array_equal(pixels(walk.images[-1]), pixels(b))


def test_img2img_runs_on_the_same_weights(tiny_dit, fresh_cache):
    content = text_to_image("a red circle", model=tiny_dit, seed=1).images[0]
    pipe = fresh_cache.load("text_to_image", tiny_dit)
    result = style_transfer(content, "a blue square", model=tiny_dit, method="img2img", steps=4, strength=0.5, seed=2)
    sibling = diffusion.runtime(pipe).image_to_image()
    assert type(sibling).__name__ == "StableDiffusion3Img2ImgPipeline" and sibling.transformer is pipe.transformer
    assert result.images[0].size == (32, 32) and fresh_cache.loads == 1
    again = style_transfer(content, "a blue square", model=tiny_dit, method="img2img", steps=4, strength=0.5, seed=2)
    assert np.array_equal(pixels(result.images[0]), pixels(again.images[0]))
