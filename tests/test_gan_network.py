"""The GAN: the generator's contract, saving and loading, the training script, and the shipped weights."""

import json
import random

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from genart_playground import settings
from genart_playground.data import shapes
from genart_playground.networks.gan import Discriminator, Generator, minibatch_stddev
from genart_playground.train import gan as train_gan

TINY_RUN = ["--width", "8", "--latent_dim", "8", "--batch_size", "8", "--dataset_size", "64", "--eval_samples", "8",
            "--threads", "1"]


def tiny_generator(image_size: int = 64, upsample: str = "transposed") -> Generator:
    torch.manual_seed(0)
    return Generator(latent_dim=8, width=8, image_size=image_size, upsample=upsample).eval()


@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
@pytest.mark.parametrize("image_size", [32, 64])
def test_generator_shape_and_range(image_size, upsample):
    images = tiny_generator(image_size, upsample)(torch.randn(5, 8))
    assert images.shape == (5, 3, image_size, image_size)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0  # not a constant picture


@pytest.mark.parametrize("minibatch_std", [True, False])
def test_discriminator_scores_one_number_per_image(minibatch_std):
    torch.manual_seed(0)
    assert Discriminator(width=8, image_size=64, minibatch_std=minibatch_std)(torch.rand(3, 3, 64, 64)).shape == (3,)


def test_minibatch_stddev_groups_consecutive_pictures_only():
    # Real pictures first, then fakes, as the training loop scores them: a group of four identical
    # pictures must report no spread even when the next group varies.
    same = torch.ones(4, 2, 4, 4)
    varied = torch.randn(4, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    spread = minibatch_stddev(torch.cat([same, varied]))[:, -1]
    assert spread.shape == (8, 4, 4)
    assert torch.all(spread[:4] == 0) and torch.all(spread[4:] > 0.1)
    assert minibatch_stddev(torch.randn(3, 2, 4, 4)).shape == (3, 3, 4, 4)  # a batch not divisible by 4


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        Generator(latent_dim=8, width=8, image_size=48)
    with pytest.raises(ValueError, match="`upsample` must be one of"):
        Generator(latent_dim=8, width=8, image_size=64, upsample="bilinear")
    with pytest.raises(ValueError, match=r"shape \(N, 8\)"):
        tiny_generator()(torch.randn(2, 7))


@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
def test_save_and_load_give_identical_outputs(tmp_path, upsample):
    generator = tiny_generator(upsample=upsample)
    generator.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {"latent_dim": 8, "width": 8, "image_size": 64,
                                                                  "upsample": upsample}
    assert (tmp_path / "model.safetensors").is_file()
    loaded = Generator.from_pretrained(tmp_path).eval()
    z = torch.randn(4, 8)
    assert torch.equal(generator(z), loaded(z))


def test_measure_counts_clean_pictures_and_the_combos_they_cover():
    scenes = [shapes.sample_scene(random.Random(i), "train", color=c, shape=sh)
              for i, (c, sh) in enumerate([("red", "circle"), ("red", "circle"), ("blue", "square")])]
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    quality = train_gan.measure([shapes.render(scene) for scene in scenes] + [noise])
    assert quality["clean_fraction"] == 0.75
    assert quality["train_combos_covered"] == 2 and quality["train_combos_total"] == 20


def test_training_changes_weights_and_resume_matches_a_straight_run(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train_gan.main([*TINY_RUN, "--steps", "4", "--sample_every", "4", "--out", str(straight)])
    train_gan.main([*TINY_RUN, "--steps", "2", "--sample_every", "2", "--out", str(split)])
    train_gan.main([*TINY_RUN, "--steps", "4", "--sample_every", "2", "--out", str(split),
                    "--resume", str(split / "checkpoint")])

    trained = load_file(str(straight / "checkpoint" / "generator.safetensors"))
    initial = tiny_generator(upsample="nearest").state_dict()  # the script seeds before building, as this helper does
    assert not torch.equal(trained["project.weight"], initial["project.weight"])
    resumed = load_file(str(split / "checkpoint" / "generator.safetensors"))
    for name, tensor in trained.items():
        assert torch.allclose(tensor, resumed[name], atol=1e-6), name
    assert json.loads((split / "checkpoint" / "state.json").read_text())["step"] == 4
    assert (straight / "samples_000004.png").is_file()
    loaded = Generator.from_pretrained(straight / "generator")
    assert loaded.latent_dim == 8
    # The scored generator is kept as the best so far, and the score is logged.
    assert (straight / "best" / "model.safetensors").is_file()
    quality = [json.loads(line) for line in (straight / "quality.jsonl").read_text().splitlines()]
    assert quality[-1]["step"] == 4 and quality[0]["best"]


SHIPPED = settings.BUILTIN_DIR / "shapes-gan"
FLOOR_CLEAN = 0.45  # the shipped weights: 56 % clean on these 64 samples (68 % on the card's 512)
FLOOR_COMBOS = 8  # and 13 of the 20 training combinations (17 on the card's 512)


@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="shapes-gan weights not trained yet")
def test_shipped_generator_draws_shapes_on_palette_backgrounds():
    generator = Generator.from_pretrained(SHIPPED).eval()
    images = train_gan.sample(generator, 64, seed=0)
    quality = train_gan.measure(images)
    # A floor against regressions, not the goal (90 % clean, 20 combos): see the model card for the
    # figures on 512 samples. An untrained generator scores 0 % clean.
    assert quality["clean_fraction"] >= FLOOR_CLEAN, quality
    assert quality["train_combos_covered"] >= FLOOR_COMBOS, quality
