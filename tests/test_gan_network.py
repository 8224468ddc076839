"""The GAN: the generator's contract, saving and loading, the training script, and the shipped weights."""

import json
import random

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from genart_playground import settings
from genart_playground.data import shapes
from genart_playground.families.gan_interpolation.dcgan import (Discriminator, Generator, code_labels, code_weights,
                                                                minibatch_stddev)
from genart_playground.metrics import world
from genart_playground.families.gan_interpolation import train_gan as train_gan

pytestmark = pytest.mark.slow  # trains GANs and runs the shipped generators

TINY_RUN = ["--width", "8", "--latent_dim", "8", "--batch_size", "8", "--dataset_size", "64", "--eval_samples", "8",
            "--threads", "1"]


CODES = [["red circle", "blue square", "green diamond"], ["white", "black"]]


def tiny_generator(image_size: int = 64, upsample: str = "transposed", codes=None) -> Generator:
    torch.manual_seed(0)
    return Generator(latent_dim=8, width=8, image_size=image_size, upsample=upsample, codes=codes).eval()


@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
@pytest.mark.parametrize("image_size", [32, 64])
def test_generator_shape_and_range(image_size, upsample):
    images = tiny_generator(image_size, upsample)(torch.randn(5, 8))
    assert images.shape == (5, 3, image_size, image_size)
    assert images.min() >= -1 and images.max() <= 1
    assert images.std() > 0  # not a constant picture


def test_codes_are_read_from_angles_evenly_and_survive_truncation():
    z = torch.randn(30_000, 8, generator=torch.Generator().manual_seed(0))
    labels = code_labels(z, CODES)
    for i, names in enumerate(CODES):
        shares = torch.bincount(labels[:, i], minlength=len(names)).float() / len(z)
        assert torch.allclose(shares, torch.full_like(shares, 1 / len(names)), atol=0.01)
    # Truncation shortens z and keeps its angles, so a truncated z names the same classes.
    assert torch.equal(code_labels(0.3 * z, CODES), labels)
    # Only the numbers a code is read from matter: the second code is z[:, 2:4].
    changed = z.clone()
    changed[:, 4:] = torch.randn(len(z), 4)
    assert torch.equal(code_labels(changed, CODES), labels)


def test_a_code_blends_two_classes_only_near_a_sector_edge():
    # Angles across the edge between class 0 (sector [0, 1/3) of the turn) and class 1 of the first
    # code, in sectors from the edge: the middle of class 0, 0.1 and 0.005 inside it, on the edge, ...
    sectors = torch.tensor([-0.5, -0.1, -0.005, 0.0, 0.005, 0.1, 0.5])
    turns = (1 + sectors) / 3
    z = torch.zeros(len(turns), 8)
    z[:, 0], z[:, 1] = torch.cos(2 * torch.pi * turns), torch.sin(2 * torch.pi * turns)
    for sharpness in (20.0, 100.0):
        weights = code_weights(z, CODES, sharpness)[0]
        assert torch.allclose(weights.sum(dim=1), torch.ones(len(z)))
        assert weights[0, 0] > 0.999 and weights[6, 1] > 0.999  # sector middles: one class
        assert torch.allclose(weights[3, :2], torch.tensor([0.5, 0.5]), atol=1e-4)  # on the edge: half each
        assert 0.5 < weights[2, 0] < 0.999 and 0.5 < weights[4, 1] < 0.999  # very close to it: mostly one
    # How far the blend reaches: 0.1 sector from the edge is a blend at 20 and one class at 100.
    assert code_weights(z, CODES, 20.0)[0][1, 0] < 0.99 and code_weights(z, CODES, 100.0)[0][1, 0] > 0.999
    assert tiny_generator(codes=CODES).describe(z[[0, 6]]) == [["red circle", "white"], ["blue square", "white"]]


def test_conditional_generator_draws_what_its_codes_name():
    # The codes reach the picture: after some training steps on two codes, the same noise with another
    # class gives another picture, and the same class with other noise in the other numbers a similar one.
    generator = tiny_generator(codes=CODES)
    with torch.no_grad():
        for norm in [m for m in generator.modules() if hasattr(m, "gain")]:
            torch.nn.init.normal_(norm.bias.weight, 0, 1.0)  # what training would learn: class-dependent shifts
    z = torch.randn(1, 8, generator=torch.Generator().manual_seed(1)).repeat(3, 1)
    z[1, :2] = -z[1, :2]  # half a turn: another class of the first code
    z[2, 4:] = torch.randn(4, generator=torch.Generator().manual_seed(2))  # other noise, same classes
    generator.train()  # batch statistics over the three
    labels = code_labels(z, CODES)
    assert labels[0, 0] != labels[1, 0] and torch.equal(labels[0], labels[2])
    images = generator(z)
    assert (images[0] - images[1]).abs().mean() > (images[0] - images[2]).abs().mean()


def test_projection_discriminator_scores_against_the_labels():
    torch.manual_seed(0)
    discriminator = Discriminator(width=8, image_size=64, classes=(3, 2))
    images = torch.rand(4, 3, 64, 64)
    labels = torch.tensor([[0, 0], [1, 1], [2, 0], [0, 1]])
    scores = discriminator(images, labels)
    assert scores.shape == (4,)
    assert not torch.allclose(scores, discriminator(images, torch.tensor([[1, 1], [2, 0], [0, 1], [1, 0]])))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        discriminator(images)


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
    with pytest.raises(ValueError, match="two latent numbers per code"):
        Generator(latent_dim=3, width=8, codes=CODES)
    with pytest.raises(ValueError, match="at least two classes"):
        Generator(latent_dim=8, width=8, codes=[["red circle"]])


@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
def test_save_and_load_give_identical_outputs(tmp_path, upsample):
    generator = tiny_generator(upsample=upsample)
    generator.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {"latent_dim": 8, "width": 8, "image_size": 64,
                                                                  "upsample": upsample, "codes": None, "embed_dim": 32,
                                                                  "sharpness": 100.0}
    assert (tmp_path / "model.safetensors").is_file()
    loaded = Generator.from_pretrained(tmp_path).eval()
    z = torch.randn(4, 8)
    assert torch.equal(generator(z), loaded(z))


def test_conditional_generator_saves_its_codes(tmp_path):
    generator = tiny_generator(upsample="nearest", codes=CODES)
    generator.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["codes"] == CODES
    loaded = Generator.from_pretrained(tmp_path).eval()
    z = torch.randn(4, 8)
    assert loaded.codes == CODES and torch.equal(generator(z), loaded(z))


def test_measure_counts_clean_pictures_and_the_combos_they_cover():
    scenes = [shapes.sample_scene(random.Random(i), "train", color=c, shape=sh)
              for i, (c, sh) in enumerate([("red", "circle"), ("red", "circle"), ("blue", "square")])]
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    quality = world.measure([shapes.render(scene) for scene in scenes] + [noise])
    assert quality["clean_fraction"] == 0.75
    assert quality["train_combos_covered"] == 2 and quality["train_combos_total"] == 20


def test_training_changes_weights_and_resume_matches_a_straight_run(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train_gan.main([*TINY_RUN, "--steps", "4", "--sample_every", "4", "--out", str(straight)])
    train_gan.main([*TINY_RUN, "--steps", "2", "--sample_every", "2", "--out", str(split)])
    train_gan.main([*TINY_RUN, "--steps", "4", "--sample_every", "2", "--out", str(split),
                    "--resume", str(split / "checkpoint")])

    trained = load_file(str(straight / "checkpoint" / "generator.safetensors"))
    # The script seeds before building, as this helper does; on the shapes world it is conditional.
    initial = tiny_generator(upsample="nearest", codes=shapes.shapes_codes()).state_dict()
    assert not torch.equal(trained["project.weight"], initial["project.weight"])
    resumed = load_file(str(split / "checkpoint" / "generator.safetensors"))
    for name, tensor in trained.items():
        assert torch.allclose(tensor, resumed[name], atol=1e-6), name
    assert json.loads((split / "checkpoint" / "state.json").read_text())["step"] == 4
    assert (straight / "samples_000004.png").is_file()
    loaded = Generator.from_pretrained(straight / "generator")
    assert loaded.latent_dim == 8 and loaded.codes == shapes.shapes_codes()
    # The scored generator is kept as the best so far, and the score is logged.
    assert (straight / "best" / "model.safetensors").is_file()
    quality = [json.loads(line) for line in (straight / "quality.jsonl").read_text().splitlines()]
    assert quality[-1]["step"] == 4 and quality[0]["best"]


SHIPPED = settings.BUILTIN_DIR / "shapes-gan"
FLOOR_CLEAN = 0.8  # the shipped weights: 92 % clean on these 64 samples (96.5 % on the card's 512)
FLOOR_COMBOS = 18  # and all 20 training combinations (20 on the card's 512 too)
FLOOR_SHOWS_CODES = 0.75  # 89 % (91 % on the card's 512)


@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="shapes-gan weights not trained yet")
def test_shipped_generator_draws_the_shapes_its_codes_name():
    generator = Generator.from_pretrained(SHIPPED).eval()
    assert generator.codes == shapes.shapes_codes()
    quality = train_gan.evaluate(generator, 64, seed=0)
    # A floor against regressions, a little under the goal (90 % clean, 20 combos) since 64 samples
    # are few: see the model card for the figures on 512. An untrained generator scores 0 % clean.
    assert quality["clean_fraction"] >= FLOOR_CLEAN, quality
    assert quality["train_combos_covered"] >= FLOOR_COMBOS, quality
    # The checker reads the colour, shape and background the codes name (1 in 60 by chance).
    assert quality["shows_its_codes"] >= FLOOR_SHOWS_CODES, quality


def test_walk_frames_are_labelled_with_the_classes_their_codes_name():
    from genart_playground import gan_interpolation
    from genart_playground.families.gan_interpolation.gan_interpolation import latent, reading

    from genart_playground.metrics import world

    generator = Generator.from_pretrained(SHIPPED).eval()
    result = gan_interpolation(2, 5, frames=9, truncation=0.7)  # the built-in generator, the default
    assert len(result.labels) == 9
    for seed, label, image in ((2, result.labels[0], result.images[0]), (5, result.labels[-1], result.images[-1])):
        codes = " · ".join(generator.describe(latent(seed, generator.latent_dim)[None])[0])
        # Issue 34 §1.7: the codes alone where the checker reads them in the picture; else its reading beside them
        judged = world.judge([image])[0]
        shows = judged.clean and f"{judged.color} {judged.shape} · {judged.background}" == codes
        assert label == (codes if shows else f"codes: {codes}; the checker reads: {reading(judged)}")
    # Truncation keeps the classes: a seed names the same ones at any truncation.
    codes_of = [label.removeprefix("codes: ").split(";")[0] for label in result.labels]
    assert [label.removeprefix("codes: ").split(";")[0] for label in gan_interpolation(2, 5, frames=2).labels] == \
        [codes_of[0], codes_of[-1]]


def test_a_caption_says_what_the_checker_reads_where_the_picture_is_not_what_its_codes_name():
    """Issue 34 §1.7: the built-in StyleGAN's W walk from seed 0 at truncation 0.5 drew a rounded shape on
    dark gray captioned "green diamond · black". The caption now names the codes as codes and the checker's
    reading beside them; a picture that shows its codes keeps the plain caption."""
    from genart_playground import gan_interpolation
    from genart_playground.families.gan_interpolation.gan_interpolation import reading
    from genart_playground.metrics import world

    walk = gan_interpolation(0, 1, model="builtin/shapes-stylegan", truncation=0.5, frames=3)
    first, last = world.judge([walk.images[0], walk.images[-1]])
    assert walk.labels[0] == f"codes: green diamond · black; the checker reads: {reading(first)}"
    assert not (first.clean and (first.color, first.shape, first.background) == ("green", "diamond", "black"))
    assert walk.labels[1] == "0.50 of the way in W"
    shows = last.clean and reading(last) == walk.labels[-1]
    assert shows or walk.labels[-1].startswith("codes: ")
