"""The evaluation lab (issue 17): the metrics get the figures they must get right on pictures the tests
make, the API refuses bad input before any model work, and it judges the built-in models."""

import random

import numpy as np
import pytest
from PIL import Image, ImageFilter

import genart_playground as gp
from genart_playground import limits, recipes, settings
from genart_playground.data import shapes
from genart_playground.metrics import distribution, world

FEATURES = settings.BUILTIN_DIR / "shapes-features"
T2I = settings.BUILTIN_DIR / "shapes-t2i"
GAN = settings.BUILTIN_DIR / "shapes-gan"
pytestmark = pytest.mark.skipif(not (FEATURES / "model.safetensors").exists(), reason="shapes-features is not shipped")
N = 96  # pictures per test set: enough to separate the sets below with a wide margin


def renders(seed: int, n: int = N) -> tuple[list, list[str]]:
    rng = random.Random(f"test/{seed}")
    scenes = [shapes.sample_scene(rng, "train") for _ in range(n)]
    return [shapes.render(scene) for scene in scenes], [shapes.full_caption(scene) for scene in scenes]


def noise(n: int = N) -> list:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(n)]


@pytest.fixture(scope="module")
def rendered():
    return renders(1)


@pytest.fixture(scope="module")
def judged_sets(rendered):
    images, _ = rendered
    blurred = [image.filter(ImageFilter.GaussianBlur(1.5)) for image in renders(2)[0]]
    return {"rendered": gp.evaluate_images(images).metrics, "noise": gp.evaluate_images(noise()).metrics,
            "blurred": gp.evaluate_images(blurred).metrics}


# ---- figures it must get right ---------------------------------------------------------------------------

@pytest.mark.parametrize("worse", ["noise", "blurred"])
def test_rendered_pictures_score_better_than_noise_and_blur(judged_sets, worse):
    good, bad = judged_sets["rendered"], judged_sets[worse]
    assert good["fid"] < bad["fid"] and good["kid"] < bad["kid"]
    assert good["precision"] > bad["precision"] and good["clean"] > bad["clean"]
    assert good["clean"] == 1.0


@pytest.mark.slow  # runs a shipped model
def test_one_picture_repeated_is_less_diverse_and_called_collapse(rendered):
    images, prompts = rendered
    varied = gp.evaluate_images(images, prompts=[prompts[0]] * N)  # the same prompt: diversity within it
    repeated = gp.evaluate_images([images[0]] * N, prompts=[prompts[0]] * N)
    for key in ("diversity", "recall", "coverage", "combination_coverage"):
        assert repeated.metrics[key] < varied.metrics[key], key
    assert repeated.metrics["diversity"] == 0.0
    assert repeated.mode_collapse["collapsed"] and not varied.mode_collapse["collapsed"]
    named = world.combination(world.judge([images[0]])[0])
    assert repeated.mode_collapse["verdict"].startswith("Mode collapse") and named in repeated.mode_collapse["verdict"]


@pytest.mark.slow  # runs a shipped model
def test_wrong_colours_lower_colour_consistency_only(rendered):
    images, prompts = rendered
    colours = list(shapes.COLORS)
    wrong = []
    for prompt in prompts:  # the same scene, its prompt naming the next colour
        colour = world.prompt_attributes(prompt)["color"]
        wrong.append(prompt.replace(f" {colour} ", f" {colours[(colours.index(colour) + 1) % len(colours)]} "))
    right, mismatched = gp.evaluate_images(images, prompts=prompts), gp.evaluate_images(images, prompts=wrong)
    assert right.metrics["color_consistency"] == 1.0 and mismatched.metrics["color_consistency"] == 0.0
    assert mismatched.metrics["shape_consistency"] == right.metrics["shape_consistency"] == 1.0
    assert mismatched.metrics["prompt_consistency"] < right.metrics["prompt_consistency"]
    assert mismatched.table[0]["consistency"] == 0.0  # worst first


@pytest.mark.slow  # runs a shipped model
def test_metrics_are_reproducible_and_a_set_is_at_zero_fid_from_itself(rendered):
    images, prompts = rendered
    first, second = gp.evaluate_images(images, prompts=prompts), gp.evaluate_images(images, prompts=prompts)
    assert first.metrics == second.metrics
    itself = gp.evaluate_images(images, reference=images)
    assert itself.metrics["fid"] < 1e-3 and itself.metrics["precision"] == itself.metrics["recall"] == 1.0
    other = gp.evaluate_images(renders(3)[0], reference=images)
    assert other.metrics["fid"] > 100 * max(itself.metrics["fid"], 1e-3)


@pytest.mark.slow  # runs a shipped model
def test_the_result_says_what_it_measured_with(rendered):
    images, prompts = rendered
    result = gp.evaluate_images(images, prompts=prompts)
    assert {"fid", "kid", "precision", "recall", "density", "coverage", "clean", "diversity",
            "prompt_consistency"} <= set(result.metrics)
    assert {f"{key}_consistency" for key in world.ATTRIBUTES} <= set(result.metrics)
    assert result.metadata["features"] == "builtin/shapes-features" and result.metadata["samples"] == N
    assert result.metadata["reference_samples"] == distribution.REFERENCE_SIZE and "kid_seed" in result.metadata
    assert len(result.table) == len(set(prompts)) and len(result.judgements) == N


# ---- the checker's reading of prompts ------------------------------------------------------------------------

def test_prompt_words_are_read_as_the_world_names_them():
    assert world.prompt_attributes("A small red circle on the left, on a gray background") == {
        "color": "red", "shape": "circle", "size": "small", "position": "left", "background": "gray"}
    assert world.prompt_attributes("a cat on a sofa") == {}
    assert world.prompt_attributes("a blue square") == {"color": "blue", "shape": "square"}
    for prompt in world.prompt_set("standard") + world.prompt_set("heldout"):
        assert world.caption(world.prompt_attributes(prompt)) == prompt


def test_edits_change_one_word():
    prompts = world.prompt_set("standard")
    for index, key, value, edited in world.edits(prompts, 3):
        before, after = world.prompt_attributes(prompts[index]), world.prompt_attributes(edited)
        assert after == {**before, key: value} and before[key] != value


# ---- refused before any model work -----------------------------------------------------------------------------

def picture(size=(64, 64)):
    return Image.new("RGB", size, "white")


@pytest.mark.parametrize("call, match", [
    (lambda: gp.evaluate_images([]), "`images`"),
    (lambda: gp.evaluate_images([picture()]), "`images`"),
    (lambda: gp.evaluate_images([picture(), picture((32, 32))]), "one size"),
    (lambda: gp.evaluate_images([picture()] * 3, prompts=["a red circle"] * 2), "one prompt per picture"),
    (lambda: gp.evaluate_images([picture()] * 2, reference=[picture((8, 80))] * 2), "longer side"),
    (lambda: gp.evaluate_images([picture()] * (limits.MAX_EVAL_IMAGES + 1)), "`images`"),
    (lambda: gp.evaluate(samples_per_prompt=limits.MAX_IMAGES + 1), "`samples_per_prompt`"),
    (lambda: gp.evaluate(prompts=["a red circle"] * (limits.MAX_EVAL_PROMPTS + 1)), "at most"),
    (lambda: gp.evaluate(prompts=["a red circle"] * limits.MAX_EVAL_PROMPTS, samples_per_prompt=limits.MAX_IMAGES),
     "at most"),
    (lambda: gp.evaluate(prompts=["a red circle"], samples_per_prompt=1), "at least 2 pictures"),
    (lambda: gp.compare(["builtin/shapes-t2i"], prompts=["a red circle"], samples_per_prompt=1), "at least 2"),
    (lambda: gp.evaluate(task="style_transfer"), "`task`"),
    (lambda: gp.evaluate("builtin/shapes-gan", task="gan_interpolation", prompts=["a red circle"]), "GAN"),
    (lambda: gp.compare([]), "`models`"),
    (lambda: gp.compare(["builtin/shapes-t2i"] * 2), "twice"),
    (lambda: gp.compare(["builtin/shapes-t2i", "builtin/shapes-vae"]), "lab judges"),
    (lambda: gp.xy_grid(x="seed", y="seed", x_values=[1], y_values=[2]), "different"),
    (lambda: gp.xy_grid(x="steps", x_values=list(range(1, 10)), y="seed", y_values=list(range(9))), "at most"),
    (lambda: gp.xy_grid(x="steps", x_values=[10, 10**6], y="seed", y_values=[0]), "`steps`"),
    (lambda: gp.xy_grid(x="scheduler", x_values=["teleport"], y="seed", y_values=[0]), "`scheduler`"),
])
def test_bad_input_is_refused_before_any_model_loads(call, match, fresh_cache):
    with pytest.raises(ValueError, match=match):
        call()
    assert fresh_cache.loads == 0


# ---- on the built-in models --------------------------------------------------------------------------------------

@pytest.mark.slow  # runs a shipped model
@pytest.mark.skipif(not (T2I / "model_index.json").exists(), reason="shapes-t2i is not shipped")
def test_evaluate_a_builtin_text_to_image_model():
    result = gp.evaluate("builtin/shapes-t2i", prompts=["a red circle on the left", "a blue square on a black background"],
                         samples_per_prompt=2, seed=3)
    assert len(result.images) == 4 and result.metadata["model"] == "builtin/shapes-t2i"
    assert result.metrics["prompt_consistency"] >= 0.75 and result.metrics["clean"] >= 0.75
    assert result.metrics["evaluations_per_picture"] == 2 * result.metadata["settings"]["steps"]  # with guidance
    assert result.metrics["seconds_per_picture"] > 0
    assert {"controllability", "controllability_color", "controllability_shape"} <= set(result.metrics)
    again = gp.evaluate("builtin/shapes-t2i", prompts=["a red circle on the left", "a blue square on a black background"],
                        samples_per_prompt=2, seed=3)
    assert {k: v for k, v in again.metrics.items() if k != "seconds_per_picture"} == \
        {k: v for k, v in result.metrics.items() if k != "seconds_per_picture"}


@pytest.mark.slow  # runs a shipped model
@pytest.mark.skipif(not (GAN / "config.json").exists(), reason="shapes-gan is not shipped")
def test_evaluate_a_builtin_gan_judges_what_its_codes_name():
    result = gp.evaluate("builtin/shapes-gan", task="gan_interpolation", samples_per_prompt=2)
    assert len(result.images) == 40 and result.metrics["evaluations_per_picture"] == 1
    assert result.metrics["prompt_consistency"] >= 0.7  # the codes' classes, judged as prompts
    assert not result.mode_collapse["collapsed"] and "controllability" not in result.metrics


@pytest.mark.skipif(not (GAN / "config.json").exists() or not (T2I / "model_index.json").exists(),
                    reason="built-ins not shipped")
@pytest.mark.slow  # runs a shipped model
def test_compare_puts_models_side_by_side():
    seen = []
    result = gp.compare(["builtin/shapes-gan", "builtin/shapes-t2i"], prompts=["a red circle"], samples_per_prompt=2,
                        on_result=lambda name, one: seen.append(name))
    assert seen == ["builtin/shapes-gan", "builtin/shapes-t2i"] and list(result.results) == seen
    assert [row["model"] for row in result.table] == seen and result.table[1]["fid"] is not None
    assert result.table[0]["task"] == "gan_interpolation" and result.table[0]["controllability"] is None


@pytest.mark.slow  # runs a shipped model
@pytest.mark.skipif(not (T2I / "model_index.json").exists(), reason="shapes-t2i is not shipped")
def test_xy_grid_labels_each_cell_with_the_checkers_verdict():
    result = gp.xy_grid("builtin/shapes-t2i", x="prompt", x_values=["a red circle", "a blue square"], y="seed",
                        y_values=[0, 1])
    grid, cells = result.images[0], result.metadata["cells"]
    assert len(result.images) == 5 and len(cells) == 4
    assert grid.width > 2 * 128 and grid.height > 2 * 128
    assert [(cell["prompt"], cell["seed"]) for cell in cells] == [("a red circle", 0), ("a blue square", 0),
                                                                  ("a red circle", 1), ("a blue square", 1)]
    assert sum(cell["matches"] for cell in cells) >= 3
    assert "from genart_playground import xy_grid" in recipes.code_snippet(result.metadata)


@pytest.mark.slow  # runs a shipped model
def test_the_shipped_classifier_reads_fresh_scenes():
    from genart_playground.models.cache import cache
    from genart_playground.families.evaluate.train_features import accuracy, scenes

    network = cache.load("evaluate", "builtin/shapes-features")
    images, labels = scenes(random.Random("fresh"), 256)
    assert accuracy(network, images, labels)["all"] >= 0.99


def test_training_script_saves_a_loadable_feature_network(tmp_path):
    from genart_playground.families.evaluate.shapes_features import ShapesFeatures
    from genart_playground.families.evaluate.train_features import FeaturesConfig, train

    out = train(FeaturesConfig(steps=3, batch_size=8, width=8, num_features=16, test_scenes=32, threads=1,
                               out=str(tmp_path / "features")))
    network = ShapesFeatures.from_pretrained(out)
    assert network.num_features == 16 + 2 and float(network.feature_std.min()) > 0
    assert (out / "training.json").exists() and not list(out.glob("*.bin"))


# ---- a standard network from the local Hugging Face cache: CLIP ------------------------------------------------

@pytest.fixture
def cached_clip(tmp_path, hf_cache):
    """A tiny CLIP laid out in the local HF cache under the default CLIP's id, as a download would leave it."""
    import shutil

    from conftest import populate_hub_cache

    from genart_playground.families.evaluate import CLIP_MODEL
    from genart_playground.models.cache import cache
    from genart_playground.testing import build_tiny_clip

    populate_hub_cache(hf_cache, CLIP_MODEL, build_tiny_clip(tmp_path / "clip"))
    yield CLIP_MODEL
    cache.evict(CLIP_MODEL)
    shutil.rmtree(hf_cache / f"models--{CLIP_MODEL.replace('/', '--')}", ignore_errors=True)


@pytest.mark.slow  # runs a shipped model
def test_without_a_cached_clip_there_is_no_clip_score_and_it_says_so(rendered):
    images, prompts = rendered
    result = gp.evaluate_images(images[:8], prompts=prompts[:8])
    assert "clip_score" not in result.metrics and "not in the local Hugging Face cache" in result.metadata["clip"]


@pytest.mark.slow  # runs a shipped model
def test_a_cached_clip_gives_a_clip_score_and_can_be_the_feature_space(rendered, cached_clip):
    images, prompts = rendered
    result = gp.evaluate_images(images[:8], prompts=prompts[:8])
    assert 0.0 <= result.metrics["clip_score"] <= 100.0 and result.metadata["clip"] == cached_clip
    assert gp.evaluate_images(images[:8], prompts=prompts[:8], clip=False).metadata["clip"].startswith("no CLIP")
    in_clip = gp.evaluate_images(images[:8], reference=images[:8], features=cached_clip)
    assert in_clip.metadata["features"] == cached_clip and in_clip.metadata["feature_dim"] == 8
    assert in_clip.metrics["fid"] < 1e-3


def test_clip_must_name_a_clip_model(rendered, fresh_cache):
    images, prompts = rendered
    with pytest.raises(ValueError, match="`clip` must name a CLIP model"):
        gp.evaluate_images(images[:4], prompts=prompts[:4], clip="builtin/shapes-features")
    assert fresh_cache.loads == 0


# ---- the tab's endpoints ------------------------------------------------------------------------------------------

@pytest.mark.server
@pytest.mark.skipif(not (GAN / "config.json").exists(), reason="shapes-gan is not shipped")
def test_the_evaluate_endpoint_returns_the_report_card(api_client):
    card, *rest = api_client.predict(["builtin/shapes-gan"], "standard", "", 1, 0, api_name="/evaluate")
    charts, worst, combinations, table, metadata = rest[:9], rest[9], rest[10], rest[11], rest[12]
    assert "FID" in card and "`builtin/shapes-gan`" in card and "Mode collapse" in card
    assert charts[0]["data"][0][0] == "builtin/shapes-gan" and charts[0]["data"][0][1] > 0  # FID's bar
    assert metadata["task"] == "compare" and metadata["models"] == ["builtin/shapes-gan"]
    assert combinations["data"] and all(row[0] == "builtin/shapes-gan" for row in table["data"])
    assert all(row[1].endswith("background") for row in table["data"])  # its codes, judged as prompts


@pytest.mark.server
def test_the_evaluate_endpoint_refuses_with_a_message(api_client):
    from gradio_client.exceptions import AppError, ValidationError

    # what is missing is refused before the queue, named as the page names it under the control
    with pytest.raises(ValidationError, match="models: Pick at least one model"):
        api_client.predict([], "standard", "", 1, 0, api_name="/evaluate")
    with pytest.raises(AppError, match="greater than maximum value"):  # the slider's own bound
        api_client.predict(["builtin/shapes-gan"], "standard", "", 10**6, 0, api_name="/evaluate")
    with pytest.raises(ValidationError, match="prompts: Type at least one prompt"):
        api_client.predict(["builtin/shapes-t2i"], "typed", "  ", 1, 0, api_name="/evaluate")


@pytest.mark.server
@pytest.mark.skipif(not (T2I / "model_index.json").exists(), reason="shapes-t2i is not shipped")
def test_the_xy_grid_endpoint_draws_the_grid(api_client):
    grid, cells, recipe = api_client.predict("builtin/shapes-t2i", "seed", "0, 1", "guidance", "1, 4", "a red circle", 0,
                                             10, 4.0, api_name="/xy_grid")
    assert Image.open(grid).width > 2 * 128 and len(cells["data"]) == 4
    assert recipe["x"] == "seed" and recipe["y_values"] == [1.0, 4.0]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="numbers separated by commas"):
        api_client.predict("builtin/shapes-t2i", "seed", "zero, one", "guidance", "1", "a red circle", 0, 10, 4.0,
                           api_name="/xy_grid")


@pytest.mark.slow  # runs a shipped model
def test_prompts_outside_the_world_get_no_consistency_figure(rendered):
    images, prompts = rendered
    result = gp.evaluate_images(images[:8], prompts=["a cat on a sofa"] * 4 + prompts[4:8])
    assert result.metrics["prompt_consistency"] == 1.0  # the four the checker can read
    assert result.table[-1]["prompt"] == "a cat on a sofa" and result.table[-1]["consistency"] is None
    cats = gp.evaluate_images(images[:8], prompts=["a cat on a sofa"] * 8)
    assert "prompt_consistency" not in cats.metrics and cats.table[0]["consistency"] is None


@pytest.mark.slow  # runs a shipped model
@pytest.mark.skipif(not (GAN / "config.json").exists(), reason="shapes-gan is not shipped")
def test_show_code_makes_the_same_figures_again():
    result = gp.evaluate("builtin/shapes-gan", task="gan_interpolation", samples_per_prompt=1, seed=5)
    both = gp.compare(["builtin/shapes-gan"], samples_per_prompt=1, seed=5)
    for made in (result, both):
        namespace = {}
        exec(compile(recipes.code_snippet(made.metadata), "snippet", "exec"), namespace)  # noqa: S102 - our own code
        again = namespace["result"]
        first = made.metrics if made is result else made.table[0]
        second = again.metrics if made is result else again.table[0]
        assert {k: v for k, v in first.items() if k != "seconds_per_picture"} == \
            {k: v for k, v in second.items() if k != "seconds_per_picture"}


@pytest.mark.slow  # runs a shipped model
def test_any_registered_model_can_be_judged(tiny_t2i, tiny_gan):
    """Hub-style models run through the same path: a tiny random pipeline (32×32) and a tiny
    unconditional GAN; their pictures are resized for the features and the checker."""
    drawn = gp.evaluate(tiny_t2i, prompts=["a red circle", "a blue square"], samples_per_prompt=2)
    assert drawn.images[0].size == (32, 32) and drawn.metadata["model"] == tiny_t2i
    assert np.isfinite(drawn.metrics["fid"]) and 0.0 <= drawn.metrics["prompt_consistency"] <= 1.0
    sampled = gp.evaluate(tiny_gan, task="gan_interpolation", samples_per_prompt=1)
    assert len(sampled.images) == 20 and "prompt_consistency" not in sampled.metrics  # no codes: no prompts
    assert sampled.table == [] and np.isfinite(sampled.metrics["kid"])
