"""Image translation: the U-Net and its saved layout, translate_image's checks and results on tiny models,
the training scripts, and the shipped Pix2Pix and CycleGAN held to floors with the project's checker."""

import json
import random

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from genart_playground import settings, translate_image
from genart_playground.families.translate_image.translate_image import to_model_size
from genart_playground.data import checker, shapes
from genart_playground.metrics import world
from genart_playground.models import registry
from genart_playground.models.spec import ModelSpec
from genart_playground.families.translate_image.translation import PatchDiscriminator, Translator, UNetGenerator
from genart_playground.testing import build_tiny_translator
from genart_playground.families.translate_image import train_cyclegan as train_cyclegan
from genart_playground.families.translate_image import train_pix2pix as train_pix2pix


@pytest.fixture
def tiny_one_way(tmp_path):
    spec = registry.register(ModelSpec("tests/tiny-pix2pix", "translate_image", "pix2pix",
                                       str(build_tiny_translator(tmp_path / "pix2pix"))))
    yield spec.name
    from genart_playground.models.cache import cache

    cache.evict(spec.name)
    registry.unregister(spec.name)


@pytest.fixture
def tiny_two_way(tmp_path):
    folder = build_tiny_translator(tmp_path / "cyclegan", directions=("sketch_to_picture", "picture_to_sketch"))
    spec = registry.register(ModelSpec("tests/tiny-cyclegan", "translate_image", "cyclegan", str(folder)))
    yield spec.name
    from genart_playground.models.cache import cache

    cache.evict(spec.name)
    registry.unregister(spec.name)


def sketch_of(**fixed) -> Image.Image:
    return shapes.sketch(shapes.sample_scene(random.Random(1), "all", **fixed))


# ---- the networks --------------------------------------------------------------------------------

def test_unet_keeps_the_size_and_range_and_the_patch_critic_scores_patches():
    generator = UNetGenerator(width=4, depth=4, image_size=64)
    out = generator(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 3, 64, 64) and out.abs().max() <= 1
    assert PatchDiscriminator(6, width=8)(torch.randn(2, 6, 64, 64)).shape == (2, 1, 14, 14)
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth"):
        UNetGenerator(depth=4, image_size=40)


def test_a_skip_connection_carries_the_outline_to_the_output():
    """Each output pixel depends on the input pixels at the same place through the outermost skip, and
    on the rest only through the bottleneck: per input pixel, the nearby ones weigh several times more."""
    torch.manual_seed(0)
    generator = UNetGenerator(width=4, depth=4, image_size=64)
    x = torch.zeros(1, 3, 64, 64, requires_grad=True)
    generator(x)[0, :, 10, 10].sum().backward()
    near, far = x.grad[0, :, 8:13, 8:13].abs().mean(), x.grad[0, :, 40:, 40:].abs().mean()
    assert near > 3 * far


def test_translators_save_in_half_precision_and_load_as_they_were(tmp_path):
    torch.manual_seed(0)
    one_way = Translator({"sketch_to_picture": UNetGenerator(width=4, depth=2, image_size=32)})
    both = Translator({d: UNetGenerator(width=4, depth=2, image_size=32) for d in ("picture_to_sketch",
                                                                                    "sketch_to_picture")})
    one_way.save_pretrained(tmp_path / "one")
    both.save_pretrained(tmp_path / "both")
    assert (tmp_path / "one" / "config.json").is_file()  # Pix2Pix: one generator folder
    assert {p.name for p in (tmp_path / "both").iterdir()} >= {"sketch_to_picture", "picture_to_sketch"}
    weights = load_file(str(tmp_path / "both" / "picture_to_sketch" / "model.safetensors"))
    assert all(t.dtype == torch.float16 for t in weights.values())
    loaded = Translator.from_folder(tmp_path / "both")
    assert loaded.directions == ("sketch_to_picture", "picture_to_sketch")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    for direction in loaded.directions:
        expected = both.generators[direction].half().float()(x)  # the same weights, rounded as stored
        assert torch.allclose(loaded(x, direction), expected, atol=1e-5)
    with pytest.raises(ValueError, match="named by direction"):
        Translator({"upside_down": UNetGenerator(width=4, depth=2, image_size=32)})


# ---- translate_image ---------------------------------------------------------------------------------

def test_a_one_way_model_refuses_the_other_direction_before_loading(tiny_one_way, fresh_cache):
    with pytest.raises(ValueError, match="learnt sketch_to_picture only"):
        translate_image(sketch_of(), model=tiny_one_way, direction="picture_to_sketch")
    with pytest.raises(ValueError, match="`image`"):
        translate_image("not a picture", model=tiny_one_way)
    assert fresh_cache.loads == 0


def test_pix2pix_gives_a_translation_and_no_round_trip(tiny_one_way):
    result = translate_image(sketch_of(), model=tiny_one_way, seed=3)
    assert result.images[0].size == (32, 32) and result.cycle is None and result.metrics == {}
    assert result.metadata["direction"] == "sketch_to_picture" and result.metadata["seed"] == 3
    assert result.metadata["notes"] == ["resized from 64×64 to 32×32, the size the model takes"]
    assert result.input.size == (32, 32)


def test_cyclegan_translates_back_and_measures_the_round_trip(tiny_two_way):
    from genart_playground import metrics
    from genart_playground.imaging import to_tensor

    picture = shapes.render(shapes.sample_scene(random.Random(2), "all"))
    result = translate_image(picture, model=tiny_two_way, direction="picture_to_sketch")
    assert result.cycle is not None and result.cycle.size == (32, 32)
    assert result.metrics["cycle_psnr"] == pytest.approx(metrics.psnr(to_tensor(result.input),
                                                                      to_tensor(result.cycle)), abs=0.2)
    assert result.metadata["directions"] == ["sketch_to_picture", "picture_to_sketch"]


def test_any_size_is_padded_with_the_paper_and_the_result_says_so():
    tall = Image.new("RGB", (30, 60), (20, 20, 20))
    tall.paste((40, 170, 70), (10, 20, 20, 40))
    square, notes = to_model_size(tall, 64)
    assert square.size == (64, 64)
    assert notes == ["padded from 30×60 to 60×60 with the border's colour",
                     "resized from 60×60 to 64×64, the size the model takes"]
    corner = np.asarray(square)[:4, :4].reshape(-1, 3)
    assert (corner == (20, 20, 20)).all()  # the paper, not white or black padding


def test_a_gan_takes_no_prompt_and_says_so_before_loading(tiny_one_way, fresh_cache):
    with pytest.raises(ValueError, match="`prompt`: tests/tiny-pix2pix takes no prompt"):
        translate_image(sketch_of(), model=tiny_one_way, prompt="a red circle")
    assert fresh_cache.loads == 0


# ---- the diffusion heirs, on tiny models built and saved here -------------------------------------------

@pytest.fixture
def tiny_heirs(tmp_path):
    """Tiny ControlNet scribble (on a tiny SD 1.5 registered as a text-to-image model) and InstructPix2Pix."""
    from genart_playground.models.cache import cache
    from genart_playground.testing import build_tiny_controlnet, build_tiny_pipeline

    base = registry.register(ModelSpec("tests/tiny-sd15", "text_to_image", "diffusers-pipeline",
                                       str(build_tiny_pipeline(tmp_path / "sd15"))))
    specs = [registry.register(ModelSpec(
                 "tests/tiny-controlnet", "translate_image", "controlnet", str(build_tiny_controlnet(tmp_path / "cn")),
                 requires=(base.name,), defaults={"base": base.name, "size": 32, "steps": 2, "guidance": 3.0,
                                                  "prompt": "a circle"})),
             registry.register(ModelSpec(
                 "tests/tiny-instruct", "translate_image", "instruct-pix2pix",
                 str(build_tiny_pipeline(tmp_path / "ip2p", instruct=True)),
                 defaults={"size": 32, "steps": 2, "guidance": 3.0, "image_guidance": 1.5, "prompt": "fill it"}))]
    yield [spec.name for spec in specs]
    for name in (*[spec.name for spec in specs], base.name):
        cache.evict(name)
        registry.unregister(name)


@pytest.mark.parametrize("which", [0, 1], ids=["controlnet-scribble", "instruct-pix2pix"])
def test_the_diffusion_heirs_translate_a_sketch_with_a_prompt_and_a_seed(tiny_heirs, which):
    name = tiny_heirs[which]
    first = translate_image(sketch_of(), model=name, prompt="a red circle", seed=4)
    again = translate_image(sketch_of(), model=name, prompt="a red circle", seed=4)
    other = translate_image(sketch_of(), model=name, prompt="a red circle", seed=5)
    assert first.images[0].size == (32, 32) and first.cycle is None
    assert np.array_equal(np.asarray(first.images[0]), np.asarray(again.images[0]))
    assert not np.array_equal(np.asarray(first.images[0]), np.asarray(other.images[0]))  # its noise is the seed's
    assert first.metadata["prompt"] == "a red circle" and first.metadata["model_size"] == [32, 32]
    assert translate_image(sketch_of(), model=name).metadata["prompt"] in ("a circle", "fill it")  # its default
    with pytest.raises(ValueError, match="learnt sketch_to_picture only"):
        translate_image(sketch_of(), model=name, direction="picture_to_sketch")


def test_the_hub_heirs_are_registered_with_what_they_need():
    controlnet = registry.resolve("translate_image", "lllyasviel/sd-controlnet-scribble")
    assert controlnet.kind == "controlnet" and controlnet.requires == (controlnet.defaults["base"],)
    assert registry.resolve("text_to_image", controlnet.defaults["base"]).kind == "diffusers-pipeline"
    assert registry.resolve("translate_image", "timbrooks/instruct-pix2pix").kind == "instruct-pix2pix"


# ---- training -----------------------------------------------------------------------------------------

TINY_RUN = ["--dataset_size", "64", "--batch_size", "2", "--width", "4", "--disc_width", "4",
            "--eval_every", "2", "--eval_samples", "4", "--threads", "1"]


@pytest.mark.slow  # trains
@pytest.mark.parametrize("script", [train_pix2pix, train_cyclegan], ids=["pix2pix", "cyclegan"])
def test_training_resumes_exactly_and_ships_the_best_translator(script, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    script.main([*TINY_RUN, "--steps", "4", "--sample_every", "4", "--out", str(straight)])
    script.main([*TINY_RUN, "--steps", "2", "--sample_every", "2", "--out", str(split)])
    script.main([*TINY_RUN, "--steps", "4", "--sample_every", "2", "--out", str(split),
                 "--resume", str(split / "checkpoint")])
    for name in ("ema",):
        trained = load_file(str(straight / "checkpoint" / f"{name}.safetensors"))
        resumed = load_file(str(split / "checkpoint" / f"{name}.safetensors"))
        for key, tensor in trained.items():
            assert torch.allclose(tensor, resumed[key], atol=1e-6), key
    torch.manual_seed(0)
    initial = UNetGenerator(width=4, depth=4, image_size=64).state_dict()
    trained_unet = {k.split(".", 2)[2]: v for k, v in trained.items() if k.startswith("generators.sketch_to_picture")} \
        if script is train_cyclegan else trained
    assert not torch.equal(trained_unet["down.0.0.weight"], initial["down.0.0.weight"])
    quality = [json.loads(line) for line in (straight / "quality.jsonl").read_text().splitlines()]
    assert [q["step"] for q in quality] == [2, 4] and quality[0]["best"]
    shipped = Translator.from_folder(straight / "best")
    expected = ("sketch_to_picture", "picture_to_sketch") if script is train_cyclegan else ("sketch_to_picture",)
    assert shipped.directions == expected
    assert (straight / "samples_000004.png").is_file()


def test_training_sketches_vary_but_repeat_for_the_same_tag():
    scenes = [shapes.sample_scene(random.Random(i)) for i in range(3)]
    first = train_pix2pix.sketches(scenes, "tag", [1.5, 2.0, 3.0])
    assert torch.equal(first, train_pix2pix.sketches(scenes, "tag", [1.5, 2.0, 3.0]))
    assert not torch.equal(first, train_pix2pix.sketches(scenes, "other", [1.5, 2.0, 3.0]))


def test_the_checker_scores_a_perfect_translation_fully_and_a_blank_one_not():
    scenes = world.translation_scenes(16, seed=5)
    perfect = world.translation_scores([shapes.render(scene) for scene in scenes], scenes)
    assert perfect["all"] >= 0.9 and perfect["clean"] >= 0.9
    blank = world.translation_scores([Image.new("RGB", (64, 64), (245, 245, 245))] * 16, scenes)
    assert blank["all"] == 0.0 and blank["shape"] == 0.0


# ---- the shipped translators ----------------------------------------------------------------------------

PIX2PIX = settings.BUILTIN_DIR / "shapes-pix2pix"
CYCLEGAN = settings.BUILTIN_DIR / "shapes-cyclegan"
FLOOR_PIX2PIX = 0.9  # the goal: shape, colour, background and position right on unseen sketches
FLOOR_CYCLEGAN = 0.6
FLOOR_ROUND_TRIP_DB = 25.0


def shipped_scores(model: str, n: int = 64) -> tuple[dict, list]:
    scenes = world.translation_scenes(n, seed=11)
    results = [translate_image(shapes.sketch(scene), model=model) for scene in scenes]
    return world.translation_scores([r.images[0] for r in results], scenes), results


@pytest.mark.slow  # runs a shipped model
@pytest.mark.skipif(not (PIX2PIX / "config.json").is_file(), reason="shapes-pix2pix not trained yet")
def test_shipped_pix2pix_draws_what_the_sketch_drew():
    scores, _ = shipped_scores("builtin/shapes-pix2pix")
    assert scores["all"] >= FLOOR_PIX2PIX, scores


@pytest.mark.skipif(not (CYCLEGAN / "sketch_to_picture" / "config.json").is_file(),
                    reason="shapes-cyclegan not trained yet")
@pytest.mark.slow  # runs a shipped model
def test_shipped_cyclegan_draws_the_sketch_and_comes_back():
    scores, results = shipped_scores("builtin/shapes-cyclegan")
    assert scores["all"] >= FLOOR_CYCLEGAN, scores
    assert np.mean([r.metrics["cycle_psnr"] for r in results]) >= FLOOR_ROUND_TRIP_DB


@pytest.mark.slow  # runs a shipped model
@pytest.mark.skipif(not (PIX2PIX / "config.json").is_file(), reason="shapes-pix2pix not trained yet")
def test_a_hand_drawn_wobbly_triangle_becomes_a_clean_green_triangle():
    """What the canvas sends: a 256×256 drawing, a pen 8 px wide, a wobbly outline not quite closed."""
    drawing = Image.new("RGB", (256, 256), shapes.BACKGROUNDS["white"])
    from PIL import ImageDraw

    rng = random.Random(4)
    corners = [(128, 50), (210, 200), (46, 200), (124, 58)]
    points = [(x + rng.uniform(-6, 6), y + rng.uniform(-6, 6)) for x, y in corners]
    ImageDraw.Draw(drawing).line(points, fill=shapes.COLORS["green"], width=8, joint="curve")
    judged = checker.judge(translate_image(drawing, model="builtin/shapes-pix2pix").images[0])
    assert judged.agrees(color="green", shape="triangle", background="white", position="center"), judged


@pytest.mark.server
def test_the_drawing_endpoint_takes_a_canvas_value_through_gradio_client(tiny_two_way, api_client, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "drawing.png"
    sketch_of(color="green", shape="triangle").resize((256, 256)).save(path)
    drawing = {"background": handle_file(str(path)), "layers": [], "composite": handle_file(str(path))}
    outputs = api_client.predict(drawing, tiny_two_way, "none", "sketch_to_picture", 2, "",
                                 api_name="/translate_drawing")
    translation, round_trip, compared, compared_round_trip, each, metadata = outputs
    assert Image.open(translation).size == (32, 32) and Image.open(round_trip).size == (32, 32)
    assert compared is None and compared_round_trip is None
    assert metadata["model"] == tiny_two_way and metadata["seed"] == 2
    assert each[0]["model"] == tiny_two_way and "cycle_psnr" in each[0]
    assert "resized from 256×256 to 32×32, the size the model takes" in metadata["notes"]


@pytest.mark.server
def test_a_script_posting_drawings_under_made_up_ids_fills_no_memory(served_app):
    """The editor's `accept_blobs` server function is open to any client (Gradio 6.31's page itself sends
    drawings through the upload route). Posted as a form it has more parts than an upload may (the
    request limits answer 413); posted as JSON it is not a file: either way nothing is held."""
    import gradio as gr
    import httpx

    editor = next(block for block in served_app.blocks.values() if isinstance(block, gr.ImageEditor))
    url = served_app.local_url.rstrip("/") + "/gradio_api/component_server"
    fields = {"component_id": str(editor._id), "session_hash": "hostile", "fn_name": "accept_blobs"}
    for i in range(5):
        form = httpx.post(url, data={**fields, "id": f"made-up-{i}", "type": "composite", "index": "null"},
                          files={"file": ("composite.png", b"\x89PNG" + b"x" * 1000, "image/png")}, timeout=30)
        assert form.status_code == 413
        as_json = httpx.post(url, json={**fields, "data": {"data": {"id": f"json-{i}", "type": "composite"},
                                                            "files": [["composite.png", "eA=="]]}}, timeout=30)
        assert as_json.status_code >= 400
    assert len(editor.blob_storage) == 0
