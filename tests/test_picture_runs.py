"""Issue 32 §2: a picture model trained in the page by its family's own training script, paused with a
checkpoint and resumed, registered so its family's tabs run it, downloadable with its card; bounded."""

import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import genart_playground as gp
from genart_playground.families.toy_training import picture_runs
from genart_playground.models import registry


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(picture_runs, "RUNS_DIR", tmp_path / "lab")
    yield tmp_path / "lab"
    for family in registry.families_that("train_pictures"):
        for spec in registry.models_for(family):
            if spec.name.startswith(picture_runs.PREFIX):
                registry.unregister(spec.name)


def wait_for(condition, seconds=300):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize("options, name", [
    ({"name": "My GAN"}, "`name`"), ({"name": "../x"}, "`name`"), ({"steps": 10**9}, "`steps`"),
    ({"family": "style_transfer"}, "`family`"), ({"seed": -1}, "`seed`"), ({"every": 0}, "`every`"),
    ({"orphan_after": 0}, "`orphan_after`"), ({"size": 16}, "not 16×16"), ({"size": "big"}, "`size`"),
    ({"family": "vae_reconstruction", "size": 32}, "64×64")])
def test_bad_settings_are_refused_before_anything_trains(options, name, runs_dir):
    with pytest.raises(ValueError, match=name):
        gp.picture_lab(**{"name": "ok", **options})
    assert picture_runs.training == set() and not runs_dir.exists()


def test_a_run_pauses_resumes_and_its_model_runs_in_its_familys_tab(runs_dir):
    run = gp.picture_lab("test-gan", family="gan_interpolation", steps=8, every=4)
    run.start()
    wait_for(lambda: run.step >= 1)
    run.pause()
    run.wait()
    assert run.state == "paused" and 1 <= run.step < 8, run.status()
    assert (runs_dir / "test-gan" / "checkpoint").is_dir() and run.model == "lab/test-gan"
    paused_at = run.step
    run.start()  # resumes from the checkpoint
    run.wait()
    assert run.state == "finished" and run.step == 8 and run.error is None, run.status()
    assert run.losses["loss_d"][0][0] == 1 and run.losses["loss_d"][-1][0] == 8
    assert [f["step"] for f in run.figures()][-1] == 8 and run.samples().name == "samples_000008.png"
    assert paused_at < 8
    # Its model: registered, loaded through the checked loader, drawn by the GAN family's function
    spec = registry.resolve("gan_interpolation", "lab/test-gan")
    assert spec.kind == "gan-generator" and spec.is_local
    walk = gp.gan_interpolation(0, 1, model="lab/test-gan", frames=2)
    assert walk.metadata["model"] == "lab/test-gan" and np.asarray(walk.images[0]).std() > 0
    # Its folder: safetensors, config and a card with its figures, read back by from_pretrained
    files = zipfile.ZipFile(io.BytesIO(run.download())).namelist()
    assert {"test-gan/config.json", "test-gan/model.safetensors", "test-gan/README.md"} <= set(files), files
    card = (runs_dir / "test-gan" / "generator" / "README.md").read_text()
    assert "**8** of 8" in card and "python -m genart_playground.train gan --steps 8" in card
    from genart_playground.families.gan_interpolation.dcgan import Generator

    assert Generator.from_pretrained(spec.source).latent_dim > 0
    assert json.loads(json.dumps(run.status()))["model"] == "lab/test-gan"
    assert len(run.charts()) == 2


def test_a_run_no_page_watches_pauses_itself(runs_dir):
    run = gp.picture_lab("orphan", family="gan_interpolation", steps=2000, every=1000, orphan_after=1.0)
    run.start()
    run.wait(120)
    assert run.state == "paused" and run.step < 2000, run.status()


def test_only_so_many_runs_train_at_once(monkeypatch):
    monkeypatch.setattr(picture_runs, "training", {"a", "b", "c", "d"})
    with pytest.raises(ValueError, match="picture runs are training"):
        gp.picture_lab("one-more", steps=10).start()


def shapes_scene_picture():
    from genart_playground.data import shapes

    return shapes.render(shapes.ShapesDataset(1, seed=3).scene(0))


# Each family's own function on its lab model: the run's model loads through the checked loader and draws
USE = {
    "flow_sample": lambda model: gp.flow_sample("a red circle", model=model).images[0],
    "text_to_image": lambda model: gp.text_to_image("a red circle", model=model, steps=2).images[0],
    "vae_reconstruction": lambda model: gp.vae_reconstruction(shapes_scene_picture(), model=model).images[0],
}


@pytest.mark.parametrize("family, size, constants", [
    ("flow_sample", 32, {"DATASET_SIZE": 256, "EVAL_SAMPLES": 8}),
    ("text_to_image", 64, {"DATASET_SIZE": 64}),
    ("vae_reconstruction", 64, {}),
])
def test_each_trainable_family_trains_in_the_lab_and_its_model_runs_in_its_tab(family, size, constants, runs_dir,
                                                                             monkeypatch):
    """The flow, the diffusion transformer and the autoencoder: their own scripts (fewer scenes than the page
    uses: this checks the wiring, not the quality), the checker's line per evaluation, the grid, the model
    registered with what it needs to run (the DiT's pipeline options), and the family's function drawing with it."""
    capability = registry.family(family).capability("train_pictures")
    assert size in capability.sizes
    module = __import__(capability.__module__, fromlist=["x"])
    for name, value in constants.items():
        monkeypatch.setattr(module, name, value)
    run = gp.picture_lab(f"test-{family.replace('_', '-')}", family=family, steps=2, every=1, size=size)
    run.start()
    run.wait()
    assert run.state == "finished" and run.error is None, run.status()
    figures = run.figures()
    assert [f["step"] for f in figures] == [1, 2]
    assert all(0 <= f["clean_fraction"] <= 1 and f["train_combos_total"] == 20 for f in figures)
    assert run.samples().name == "samples_000002.png"
    spec = registry.resolve(family, run.model)
    assert spec.is_local and f"{size}×{size}, from scratch" in (Path(spec.source) / "README.md").read_text()
    picture = USE[family](run.model)
    assert picture.size[0] in (size, 64) and np.asarray(picture).std() > 0


def test_a_visitors_run_is_listed_to_that_visitors_pages_only_on_a_public_server(monkeypatch):
    """Issue 32 §2 "a session's runs": a lab model carries the page sessions that trained or reattached it; a
    public server's dropdowns list it to those pages only, a private server's to every page."""
    from genart_playground import settings
    from genart_playground.models.spec import ModelSpec
    from genart_playground.ui import model_menu

    viewers = {"page-a"}
    registry.register(ModelSpec("lab/mine", "gan_interpolation", "gan-generator", "/nonexistent/mine"), viewers=viewers)

    def listed(session):
        return "lab/mine" in [name for _, name in model_menu.model_choices("gan_interpolation", session=session)]

    monkeypatch.setattr(settings, "PUBLIC", True)
    assert listed("page-a") and not listed("page-b") and not listed(None)
    viewers.add("page-b")  # the visitor reloaded the page and pressed Train again: the run is reattached
    assert listed("page-b")
    monkeypatch.setattr(settings, "PUBLIC", False)
    assert listed("page-c") and listed(None)
    registry.unregister("lab/mine")
    assert not listed("page-a")


def test_a_run_name_belongs_to_its_visitor_and_one_run_trains_per_visitor(runs_dir):
    """The page's Train: another visitor cannot resume, replace or watch a run by typing its name; a visitor's
    key that this server did not make is replaced; the same visitor (a reloaded page) reattaches."""
    from genart_playground.families.toy_training import tab

    run = {"picture_lab": gp.picture_lab}
    tab.pictures.clear()
    settings = ("gan_interpolation", 4000, 1000, 0, "auto")
    key, mine = tab.start_picture(run, None, "shared-name", *settings, session="page-a")
    try:
        assert tab.VISITOR.fullmatch(key) and mine.owner == key and mine.viewers == {"page-a"}
        with pytest.raises(ValueError, match="Another visitor's run is named 'shared-name'"):
            tab.start_picture(run, "0" * 32, "shared-name", *settings, session="page-b")
        with pytest.raises(ValueError, match="One picture run per visitor"):
            tab.start_picture(run, key, "second-run", *settings, session="page-a")
        forged, _ = tab.start_picture(run, "<script>" * 100, "other-name", *settings, session="page-c")
        assert tab.VISITOR.fullmatch(forged) and forged != key
        tab.pause_picture(forged)
        again, same = tab.start_picture(run, key, "shared-name", *settings, session="page-a2")  # a reloaded page
        assert again == key and same is mine and mine.viewers == {"page-a", "page-a2"}
    finally:
        for picture in tab.pictures.values():
            picture.pause()
        for picture in tab.pictures.values():
            picture.wait(120)
        tab.pictures.clear()
