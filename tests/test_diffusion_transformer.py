"""A diffusion transformer (SD3's SD3Transformer2DModel, `pipe.transformer`, rectified flow) runs through
every diffusion view: text to image, the denoising timeline, the diffusion walk and img2img."""

import functools
import shutil

import numpy as np
import pytest

from genart_playground import denoising_timeline, diffusion, diffusion_walk, style_transfer, text_to_image


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_the_tiny_pipeline_has_a_transformer_and_no_unet(tiny_dit, fresh_cache):
    rt = diffusion.runtime(fresh_cache.load("text_to_image", tiny_dit))
    assert getattr(rt.pipe, "unet", None) is None and rt.denoiser is rt.pipe.transformer
    assert rt.flow_matching and rt.default_size() == 32
    assert rt.schedulers() == ["flow-euler"]  # none of the UNet schedulers fits a flow-matching model


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


@pytest.mark.parametrize("draw", [text_to_image, denoising_timeline])
def test_a_size_past_the_transformers_positions_is_refused_in_its_own_words(tiny_dit, draw):
    # The tiny transformer knows 96 × 96 patches of 1 latent pixel; its autoencoder halves a side: 192 px.
    # diffusers said "Height (128) cannot be greater than `pos_embed_max_size`: 96" in latent units.
    with pytest.raises(ValueError, match=r"draws pictures of at most 192×192 px.*got 256×64"):
        draw("a red circle", model=tiny_dit, width=256, height=64, steps=1)
    assert draw("a red circle", model=tiny_dit, width=192, height=64, steps=1).images[0].size == (192, 64)


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


def test_flux_runs_text_to_image_and_the_views_that_read_latent_grids_refuse_it(tiny_flux, fresh_cache):
    a = text_to_image("a red circle", model=tiny_flux, seed=1)
    b = text_to_image("a red circle", model=tiny_flux, seed=1)
    assert a.images[0].size == (32, 32) and np.array_equal(pixels(a.images[0]), pixels(b.images[0]))
    assert a.metadata["network_evaluations"] == 2  # 2 steps, no classifier-free guidance (guidance 0)
    rt = diffusion.runtime(fresh_cache.load("text_to_image", tiny_flux))
    assert type(rt.pipe).__name__ == "FluxPipeline" and rt.flow_matching and rt.packs_latents
    for view in (lambda: denoising_timeline("a red circle", model=tiny_flux),
                 lambda: diffusion_walk("a red circle", "a blue square", model=tiny_flux, frames=2)):
        with pytest.raises(ValueError, match="packs its latents"):
            view()


def test_the_built_in_dit_passes_its_one_t5_token_to_every_call(tiny_dit, monkeypatch):
    """pipeline_options reach the pipeline's call and its encode_prompt (the walk), and Show code."""
    from genart_playground import recipes
    from genart_playground.models import registry
    from genart_playground.models.cache import cache

    spec = registry.resolve("text_to_image", tiny_dit)
    monkeypatch.setitem(spec.defaults, "pipeline_options", {"max_sequence_length": 3})
    seen = []
    rt = diffusion.runtime(cache.load("text_to_image", tiny_dit))
    original = rt.pipe.encode_prompt

    @functools.wraps(original)  # its signature is the pipeline's: the runtime passes what that takes
    def spy(*args, **kwargs):
        seen.append(kwargs.get("max_sequence_length"))
        return original(*args, **kwargs)

    monkeypatch.setattr(rt.pipe, "encode_prompt", spy)
    result = text_to_image("a red circle", model=tiny_dit, seed=1)
    diffusion_walk("a red circle", "a blue square", model=tiny_dit, frames=2)
    assert seen and all(value == 3 for value in seen)
    assert "max_sequence_length=3" in recipes.diffusers_snippet(result.metadata)


@pytest.mark.parametrize("repo_id, builder", [("stabilityai/stable-diffusion-3.5-medium", "build_tiny_sd3"),
                                              ("black-forest-labs/FLUX.1-schnell", "build_tiny_flux")])
def test_the_registered_hub_transformers_run_offline_from_the_hub_cache(repo_id, builder, hf_cache, tmp_path,
                                                                        fresh_cache):
    """The registered ids of the family, with a tiny model of the same layout laid out in the Hub cache
    under that id: they load through the Hub path (no network) with their registered settings."""
    from conftest import populate_hub_cache

    from genart_playground import testing
    from genart_playground.models import loading, registry

    spec = registry.resolve("text_to_image", repo_id)
    assert spec.defaults["width"] == 1024 and spec.kind == "diffusers-pipeline"
    folder = getattr(testing, builder)(tmp_path / "tiny")
    populate_hub_cache(hf_cache, repo_id, folder)
    try:
        assert loading.availability(spec) == "cached"
        result = text_to_image("a red circle", model=repo_id, width=32, height=32, steps=2, seed=0)
        assert result.images[0].size == (32, 32) and result.metadata["model"] == repo_id
        assert result.metadata["scheduler_class"] == "FlowMatchEulerDiscreteScheduler"
        assert result.metadata["guidance"] == spec.defaults["guidance"]
    finally:
        fresh_cache.evict(repo_id)
        shutil.rmtree(hf_cache / f"models--{repo_id.replace('/', '--')}", ignore_errors=True)
