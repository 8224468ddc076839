"""The shapes world (issue 4 §1) and the project's picture checker."""

import json
import math
import random

import numpy as np
import pytest
import torch
from PIL import Image

from genart_playground.data import checker, shapes
from genart_playground.metrics import world

pytestmark = pytest.mark.slow  # renders thousands of scenes for the world's statistics


def test_same_seed_same_images_and_captions():
    a, b = shapes.ShapesDataset(8, seed=3), shapes.ShapesDataset(8, seed=3)
    for i in range(8):
        (x, cx), (y, cy) = a[i], b[i]
        assert torch.equal(x, y) and cx == cy
    other = shapes.ShapesDataset(8, seed=4)
    assert any(not torch.equal(a[i][0], other[i][0]) for i in range(8))


def test_images_are_64x64_in_minus_one_to_one():
    x, text = shapes.ShapesDataset(1, seed=0)[0]
    assert x.shape == (3, 64, 64) and x.min() >= -1 and x.max() <= 1 and text.startswith("a ")


def test_contract_colours_exact_at_object_centre_and_background_corners():
    rng = random.Random(0)
    for _ in range(60):
        scene = shapes.sample_scene(rng, "all")
        pixels = shapes.as_array(shapes.render(scene))
        cx, cy = scene.center
        # The triangle's bounding-box centre is inside it (half-way down); the others are symmetric.
        assert tuple(pixels[int(cy), int(cx)]) == shapes.COLORS[scene.color]
        for corner in (pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]):
            assert tuple(corner) == shapes.BACKGROUNDS[scene.background]


def test_triangle_is_upright_and_diamond_is_widest_in_the_middle():
    common = dict(color="blue", size="large", position="center", background="white")
    triangle = shapes.as_array(shapes.render(shapes.sample_scene(random.Random(1), "all", shape="triangle", **common)))
    diamond = shapes.as_array(shapes.render(shapes.sample_scene(random.Random(1), "all", shape="diamond", **common)))
    widths = lambda a: (np.abs(a.astype(int) - 245).sum(-1) > 100).sum(1)  # noqa: E731
    rows = np.nonzero(widths(triangle))[0]
    assert widths(triangle)[rows[-1]] > 3 * widths(triangle)[rows[0]]  # flat base at the bottom
    assert abs(int(np.argmax(widths(diamond))) - 32) <= 4


def test_held_out_combos_never_in_train_split_and_only_them_in_heldout():
    train = shapes.ShapesDataset(2000, seed=0, split="train")
    seen = {(s.color, s.shape) for s in map(train.scene, range(len(train)))}
    assert not seen & shapes.HELD_OUT and len(seen) == 20
    held = shapes.ShapesDataset(200, seed=0, split="heldout")
    assert {(s.color, s.shape) for s in map(held.scene, range(200))} == set(shapes.HELD_OUT)


def test_captions_match_the_scene_and_leave_attributes_out():
    rng = random.Random(0)
    full = short = 0
    for _ in range(300):
        scene = shapes.sample_scene(rng, "train")
        text = shapes.caption(scene, rng)
        assert text.startswith("a ") and f"{scene.color} {scene.shape}" in text
        assert (scene.size in text.split()) or f"a {scene.color}" in text
        for position, phrase in shapes.POSITION_PHRASES.items():
            assert (phrase in text) <= (position == scene.position)
        for background in shapes.BACKGROUNDS:
            assert (f"on a {background} background" in text) <= (background == scene.background)
        full += text == shapes.full_caption(scene)
        short += text == f"a {scene.color} {scene.shape}"
    assert full > 30 and short > 0  # both the whole caption and the shortest one occur


def test_bad_split_is_refused():
    with pytest.raises(ValueError, match="split"):
        shapes.ShapesDataset(4, split="test")


def test_checker_is_right_on_rendered_ground_truth():
    rng = random.Random(123)
    scenes = [shapes.sample_scene(rng, "all") for _ in range(400)]
    judged = world.judge([shapes.render(s) for s in scenes])
    scores = world.consistency(judged, [world.scene_attributes(s) for s in scenes])
    assert scores["all"] >= 0.97, scores
    assert world.clean_fraction(judged) >= 0.97
    # The bounding box centre it names the position by is the drawn one, to a pixel.
    for scene in scenes[:100]:
        assert np.hypot(*np.subtract(checker.judge(shapes.render(scene)).centre, scene.center)) < 1.0, scene


def test_checker_rejects_noise_and_two_objects():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert not checker.judge(noise).clean
    one = shapes.render(shapes.sample_scene(random.Random(0), "all", position="left", size="small"))
    two = shapes.as_array(one).copy()
    two[:, 32:] = two[:, :32]  # the same small shape again on the right
    assert checker.judge(one).clean and not checker.judge(two).clean
    empty = Image.new("RGB", (64, 64), shapes.BACKGROUNDS["gray"])
    assert checker.judge(empty).color is None and not checker.judge(empty).clean


def test_image_folder_reads_a_sidecar_or_the_file_names(tmp_path):
    Image.new("RGB", (80, 40), (200, 10, 10)).save(tmp_path / "red_thing.png")
    Image.new("RGB", (32, 32), (10, 10, 200)).save(tmp_path / "b.jpg")
    by_name = shapes.ImageFolderDataset(tmp_path)
    assert len(by_name) == 2 and by_name.captions == ["b", "red thing"]
    x, text = by_name[1]
    assert x.shape == (3, 64, 64) and text == "red thing" and x[0].mean() > 0.5
    (tmp_path / "metadata.jsonl").write_text(json.dumps({"file_name": "b.jpg", "text": "a blue square"}) + "\n")
    assert shapes.ImageFolderDataset(tmp_path).captions == ["a blue square", "red thing"]
    (tmp_path / "metadata.jsonl").unlink()
    (tmp_path / "captions.txt").write_text("red_thing.png\ta red circle\n")
    assert shapes.ImageFolderDataset(tmp_path).captions == ["b", "a red circle"]


def test_image_folder_refuses_missing_or_empty_folders(tmp_path):
    with pytest.raises(ValueError, match="existing directory"):
        shapes.ImageFolderDataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="No images"):
        shapes.ImageFolderDataset(tmp_path)


def test_a_sketch_is_its_scenes_outline_in_the_shapes_colour_on_its_background():
    """Issue 16 §2's contract: the background colour as paper, the outline ~2 px wide in the object's
    colour, the same geometry as the picture; the inside is left as paper."""
    rng = random.Random(0)
    for _ in range(40):
        scene = shapes.sample_scene(rng, "all")
        picture, drawn = shapes.as_array(shapes.render(scene)), shapes.as_array(shapes.sketch(scene))
        paper = np.array(shapes.BACKGROUNDS[scene.background])
        for corner in (drawn[0, 0], drawn[0, -1], drawn[-1, 0], drawn[-1, -1]):
            assert tuple(corner) == tuple(paper)
        ink = np.abs(drawn.astype(int) - paper).sum(-1) > 60
        shape = np.abs(picture.astype(int) - paper).sum(-1) > 60
        assert (drawn[ink] == shapes.COLORS[scene.color]).all(-1).any()  # the line's core is the exact colour
        # The same geometry: the line's bounding box is the shape's, within the wobble and half the line.
        for axis in (0, 1):
            line, solid = np.nonzero(ink.any(1 - axis))[0], np.nonzero(shape.any(1 - axis))[0]
            assert abs(line[0] - solid[0]) <= 2 and abs(line[-1] - solid[-1]) <= 2, (scene, axis)
        if scene.size == "large" and scene.shape != "triangle":
            cx, cy = (int(c) for c in scene.center)
            assert not ink[cy - 3:cy + 4, cx - 3:cx + 4].any()  # an outline, not a filled shape
        # About 2 px wide: the ink covers a band along the outline, far less than the filled shape.
        assert ink.sum() < 0.8 * shape.sum() or scene.size == "small"


def test_sketch_outlines_have_the_contracts_points_each_moved_at_most_one_pixel():
    scene = shapes.sample_scene(random.Random(2), "all", shape="circle", size="large")
    assert len(shapes.sketch_outline(scene, random.Random(0))) == 24
    square = shapes.sample_scene(random.Random(2), "all", shape="square", size="large")  # sides ~30 px
    points = shapes.sketch_outline(square, random.Random(0))
    assert len(points) == 4 * math.ceil(square.extent / 4)  # the corners and a point every 4 px
    (cx, cy), half = square.center, square.extent / 2
    for x, y in points:  # each on the square's outline, moved by up to 1 px on each axis
        assert min(abs(abs(x - cx) - half), abs(abs(y - cy) - half)) <= 1.0 + 1e-9
        assert abs(x - cx) <= half + 1 and abs(y - cy) <= half + 1
    # The wobble is random, but the same scene gives the same sketch unless another rng is passed.
    assert np.array_equal(shapes.as_array(shapes.sketch(square)), shapes.as_array(shapes.sketch(square)))
    assert not np.array_equal(shapes.as_array(shapes.sketch(square, random.Random(1))),
                              shapes.as_array(shapes.sketch(square, random.Random(2))))
