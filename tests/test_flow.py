"""The normalizing flow (families/flow_sample): its likelihood is exact, it inverts exactly, prompts become its
classes, and the shipped model's figures (round trip, bits/dim of shapes against noise and a photo)."""

import random

import numpy as np
import pytest
import torch
from PIL import Image

import genart_playground as gp
from genart_playground.data import shapes
from genart_playground.families.flow_sample import classes
from genart_playground.families.flow_sample.glow import Glow
from genart_playground.models import registry
from genart_playground.families import by_id

FLOW = by_id("flow_sample")


def small_flow(**shape) -> Glow:
    torch.manual_seed(0)
    flow = Glow(**{"image_size": 4, "levels": 2, "steps_per_level": 2, "hidden": 8, "embed_dim": 4,
                   "codes": classes.flow_codes(), **shape})
    with torch.no_grad():  # weights off their identity start, so every layer does something
        for parameter in flow.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape))
    return flow.eval()


def labels(count: int, flow: Glow) -> torch.Tensor:
    return torch.stack([torch.randint(len(names), (count,)) for names in flow.codes], 1)


# --- the network: exact likelihood, exact inverse ---------------------------------------------------------------

def test_the_log_likelihood_is_the_change_of_variables_formula():
    """log p(x) from encode() equals log N(z) + log|det ∂z/∂x| with the determinant taken by brute force."""
    flow = small_flow().double()
    x = torch.rand(1, 3, 4, 4, dtype=torch.float64)
    embedding = flow.embed(labels(1, flow))

    def to_z(flat):
        zs, _ = flow.encode(flat.view(1, 3, 4, 4), embedding)
        return torch.cat([z.flatten() for z in zs])

    jacobian = torch.autograd.functional.jacobian(to_z, x.flatten())
    zs, log_p = flow.encode(x, embedding)
    # the priors' densities, level by level, as decode() reads them
    prior_density = 0.0
    h = None
    for level in reversed(range(flow.levels)):
        mean, log_std = flow.priors[level](embedding) if h is None else flow.priors[level](h, embedding)
        prior_density += torch.distributions.Normal(mean, log_std.exp()).log_prob(zs[level]).sum()
        h = zs[level] if h is None else torch.cat([h, zs[level]], 1)
        for layer in reversed(flow.steps[level]):
            h = layer.inverse(h, embedding)
        from genart_playground.families.flow_sample.glow import unsqueeze
        h = unsqueeze(h)
    expected = prior_density + torch.linalg.slogdet(jacobian)[1]
    assert torch.allclose(log_p[0], expected, atol=1e-6), (float(log_p[0]), float(expected))


def test_decode_inverts_encode_to_float_rounding():
    flow = small_flow(image_size=16, levels=3)
    x = torch.rand(5, 3, 16, 16)
    embedding = flow.embed(labels(5, flow))
    with torch.no_grad():
        zs, _ = flow.encode(x, embedding)
        back = flow.decode(embedding, zs)
    # float32 rounding through 18 layers of random weights (a trained one loses less: the shipped ~1e-5)
    assert (back - x).abs().max() < 5e-4
    assert [tuple(z.shape[1:]) for z in zs] == flow.z_shapes() == [(6, 8, 8), (12, 4, 4), (48, 2, 2)]


def test_temperature_zero_is_the_prior_mean_and_the_seed_decides_the_rest():
    flow = small_flow(image_size=8)
    embedding = flow.embed(labels(2, flow))
    with torch.no_grad():
        cold = [flow.decode(embedding, temperature=0.0, generator=torch.Generator().manual_seed(s)) for s in (0, 1)]
        warm = [flow.decode(embedding, temperature=0.7, generator=torch.Generator().manual_seed(s)) for s in (0, 1)]
    assert torch.equal(cold[0], cold[1]) and not torch.equal(warm[0], warm[1])


# --- prompts to classes -----------------------------------------------------------------------------------------

def test_a_prompt_names_the_classes_and_leaves_the_rest_to_the_seed():
    codes = classes.flow_codes()
    request = classes.read_prompt("a large red circle on the left on a gray background", codes)
    assert classes.caption(codes, request.labels([[0, 0, 0]])[0]) == "a large red circle on the left on a gray background"
    request = classes.read_prompt("a purple diamond", codes)
    rows = request.labels([[0, 1, 1], [2, 4, 0]])
    assert [classes.caption(codes, row) for row in rows] == ["a large purple diamond in the center on a white background",
                                                             "a small purple diamond at the bottom on a gray background"]
    assert request.warnings == []


@pytest.mark.parametrize("prompt, refusal", [("", "must not be empty"), ("  ", "must not be empty"),
                                             ("a red thing", "Name a colour and a shape")])
def test_prompts_without_a_colour_and_a_shape_are_refused_before_any_model_loads(prompt, refusal, fresh_cache):
    with pytest.raises(ValueError, match=refusal):
        gp.flow_sample(prompt)
    assert fresh_cache.loads == 0


def test_a_class_held_out_of_its_training_is_refused(tiny):
    with pytest.raises(ValueError, match="no class \"red square\".+held out of its training"):
        gp.flow_sample("a red square", model=tiny)


def test_words_it_cannot_use_are_warnings():
    request = classes.read_prompt("a cute blue square, big", classes.flow_codes())
    assert request.warnings == ["the flow does not know the words 'cute', 'big': it reads only the shapes world's words."]
    two_codes = classes.flow_codes()[:2]  # a flow told only colour×shape and background
    request = classes.read_prompt("a small blue square on the left", two_codes)
    assert "not told the size or the position" in request.warnings[0]


# --- the public functions on the tiny model ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from genart_playground.models.cache import cache

    name = registry.register(FLOW.make_tiny(tmp_path_factory.mktemp("flow") / "tiny-flow")).name
    yield name
    cache.evict(name)
    registry.unregister(name)


def test_flow_sample_reports_bits_per_dim_for_each_picture_and_its_classes(tiny):
    result = gp.flow_sample("a green circle on a black background", model=tiny, num_images=3, seed=5)
    assert len(result.images) == len(result.metrics["bits_per_dim"]) == 3
    assert all(b > 0 for b in result.metrics["bits_per_dim"])
    assert all(c.startswith(("a small green circle", "a large green circle")) and c.endswith("on a black background")
               for c in result.metadata["classes"])
    # picture i comes from seed + i alone
    again = gp.flow_sample("a green circle on a black background", model=tiny, num_images=1, seed=6)
    assert np.array_equal(np.asarray(again.images[0]), np.asarray(result.images[1]))


def test_flow_likelihood_takes_any_size_and_says_it_resized(tiny):
    pictures = [Image.new("RGB", (40, 30), (20, 20, 20)), Image.new("RGB", (8, 8), (245, 245, 245))]
    result = gp.flow_likelihood(pictures, model=tiny)
    assert len(result.metrics["bits_per_dim"]) == 2 and [p.size for p in result.images] == [(8, 8), (8, 8)]
    assert any("cropped" in note for note in result.metadata["notes"])
    assert any("resized from 30×30 to 8×8" in note for note in result.metadata["notes"])
    assert not any(note.startswith("image 1") for note in result.metadata["notes"])  # already the model's size


def test_flow_likelihood_refuses_too_many_pictures_before_any_model_loads(tiny, fresh_cache):
    with pytest.raises(ValueError, match="number of images"):
        gp.flow_likelihood([Image.new("RGB", (8, 8))] * 9, model=tiny)
    assert fresh_cache.loads == 0


def test_the_round_trip_and_the_walk_end_exactly_on_the_pictures(tiny):
    a = Image.fromarray(np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8))
    b = Image.new("RGB", (8, 8), (128, 128, 128))
    trip = gp.flow_round_trip(a, model=tiny)
    assert trip.metrics["max_abs_error"] < 1e-5 and np.array_equal(np.asarray(trip.images[0]), np.asarray(a))
    assert len(trip.z_maps) == len(trip.from_levels) == 2
    walk = gp.flow_walk(a, b, model=tiny, frames=5)
    assert len(walk.images) == 5 and walk.gif
    assert np.array_equal(np.asarray(walk.images[0]), np.asarray(a))
    assert np.array_equal(np.asarray(walk.images[-1]), np.asarray(b))


# --- the shipped model ------------------------------------------------------------------------------------------

@pytest.mark.slow  # runs the shipped flow
def test_the_shipped_flow_inverts_and_prefers_shapes_to_noise_and_photos():
    from genart_playground.families.flow_sample.references import reference_pictures

    scene = shapes.sample_scene(random.Random("test-flow/heldout"))
    picture = shapes.render(scene)
    trip = gp.flow_round_trip(picture)
    assert trip.metrics["max_abs_error"] < 1e-4  # float rounding through 24 layers (fp16 weights, run in fp32)
    references = reference_pictures()
    noise, photo = references["random noise"], references["a photo (Grace Hopper)"]
    bits = gp.flow_likelihood([picture, noise, photo]).metrics["bits_per_dim"]
    assert bits[0] < bits[1] and bits[0] < bits[2], bits


# --- the 2-D flow -----------------------------------------------------------------------------------------------

def test_flow_points_learns_two_moons_and_refuses_what_it_cannot_train():
    # seed fixed: 200 steps bring this run from 3.05 to 1.84 nats per point (measured; 400 steps: 1.32)
    result = gp.flow_points("two moons", steps=200, seed=0)
    first, last = result.metrics["nll"]
    assert last < first - 1.0, (first, last)
    assert len(result.images) == 3 and len(result.frames) == 16 and result.gif.startswith(b"GIF")
    for bad, message in ((dict(dataset="spirals"), "`dataset`"), (dict(steps=10**6), "`steps`")):
        with pytest.raises(ValueError, match=message):
            gp.flow_points(**{"dataset": "rings", **bad})


def test_a_cancel_stops_the_2d_training_at_its_first_report():
    from genart_playground.serving import Cancelled

    reports = []

    def progress(fraction, message=""):
        reports.append(fraction)
        raise Cancelled("Cancelled.")

    with pytest.raises(Cancelled):
        gp.flow_points("rings", steps=400, progress=progress)
    assert len(reports) == 1


@pytest.mark.slow  # runs the shipped flow
def test_the_shipped_flow_draws_every_class_and_mostly_clean_pictures():
    """Floors under the card's figures (temperature 0.7, 1,200 samples: 83.4 % clean, 76.8 % the requested
    colour+shape, 20 of 20 reached). Seed fixed (the card's bench seed) so the floors are not a draw's luck."""
    from genart_playground.families.flow_sample.likelihood import all_labels
    from genart_playground.families.flow_sample.pictures import to_pictures
    from genart_playground.metrics import world
    from genart_playground.models.cache import cache
    from genart_playground.devices import make_generator

    flow = cache.load("flow_sample", "builtin/shapes-flow")
    labels = all_labels(flow)  # one of each of the 600 classes
    with torch.no_grad():
        pixels = flow.decode(flow.embed(labels), temperature=0.7, generator=make_generator(0))
    images, _ = to_pictures(pixels, "builtin/shapes-flow")
    judged = world.judge(images)
    wanted = [classes.attributes(flow.codes, row) for row in labels.tolist()]
    clean = np.mean([j.clean for j in judged])
    right = [j.clean and j.agrees(color=w["color"], shape=w["shape"]) for j, w in zip(judged, wanted)]
    reached = {f"{w['color']} {w['shape']}" for ok, w in zip(right, wanted) if ok}
    assert clean >= 0.78 and np.mean(right) >= 0.70 and len(reached) == 20, (clean, np.mean(right), len(reached))
