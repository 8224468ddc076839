"""Issue 32 §2: a picture model trained in the page by its family's own training script, paused with a
checkpoint and resumed, registered so its family's tabs run it, downloadable with its card; bounded."""

import io
import json
import time
import zipfile

import numpy as np
import pytest

import genart_playground as gp
from genart_playground.families.toy_training import picture_runs
from genart_playground.models import registry


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(picture_runs, "RUNS_DIR", tmp_path / "lab")
    yield tmp_path / "lab"
    for spec in registry.models_for("gan_interpolation"):
        if spec.name.startswith(picture_runs.PREFIX):
            registry.unregister(spec.name)


def wait_for(condition, seconds=300):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize("options, name", [
    ({"name": "My GAN"}, "`name`"), ({"name": "../x"}, "`name`"), ({"steps": 10**9}, "`steps`"),
    ({"family": "vae_reconstruction"}, "`family`"), ({"seed": -1}, "`seed`"), ({"every": 0}, "`every`"),
    ({"orphan_after": 0}, "`orphan_after`")])
def test_bad_settings_are_refused_before_anything_trains(options, name, runs_dir):
    with pytest.raises(ValueError, match=name):
        gp.picture_lab(**{"name": "ok", **options})
    assert picture_runs.training == set() and not runs_dir.exists()


def test_a_run_pauses_resumes_and_its_model_runs_in_its_familys_tab(runs_dir):
    run = gp.picture_lab("test-gan", steps=8, every=4)
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
    run = gp.picture_lab("orphan", steps=2000, every=1000, orphan_after=1.0)
    run.start()
    run.wait(120)
    assert run.state == "paused" and run.step < 2000, run.status()


def test_only_so_many_runs_train_at_once(monkeypatch):
    monkeypatch.setattr(picture_runs, "training", {"a", "b", "c", "d"})
    with pytest.raises(ValueError, match="picture runs are training"):
        gp.picture_lab("one-more", steps=10).start()
