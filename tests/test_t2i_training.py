"""The text-to-image training script on a tiny UNet: it trains, ships by score, and a second stage
(`--init`) starts from the pipeline it is given."""

import json
import random

import pytest
import torch
from safetensors.torch import load_file

from genart_playground.families.text_to_image import train_t2i as t2i

pytestmark = pytest.mark.slow  # trains the text-to-image pipeline

TINY = ["--channels", "16", "--text_width", "32", "--text_layers", "1", "--dataset_size", "64", "--batch_size", "4",
        "--eval_steps", "2", "--threads", "1", "--warmup", "1"]


def test_training_ships_a_pipeline_and_a_second_stage_starts_from_it(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    t2i.main([*TINY, "--steps", "2", "--eval_every", "2", "--run_dir", str(tmp_path / "run1"), "--out", str(first)])
    state = json.loads((first / "training_state.json").read_text())
    assert state["step"] == 2 and 0 <= state["scores"]["full/position"] <= 1
    assert (first / "unet" / "diffusion_pytorch_model.safetensors").is_file() and (first / "samples.png").is_file()

    # lr 0: the second stage's weights stay those it started from, so its score cannot beat the start
    # and nothing is shipped; its checkpoint holds exactly the first stage's shipped weights.
    t2i.main([*TINY, "--steps", "1", "--eval_every", "1", "--lr", "0", "--init", str(first), "--layout_share", "1",
              "--caption_omit", "0", "--run_dir", str(tmp_path / "run2"), "--out", str(second)])
    assert not second.exists()
    shipped = load_file(str(first / "unet" / "diffusion_pytorch_model.safetensors"))
    started = load_file(str(tmp_path / "run2" / "checkpoint" / "ema_unet.safetensors"))
    assert shipped.keys() == started.keys()
    assert all(torch.equal(shipped[k], started[k]) for k in shipped)


def test_captions_can_name_every_attribute():
    meta = [{"color": "red", "shape": "circle", "size": "small", "position": "left", "background": "gray",
             "extent": 18.0, "center": [20.0, 32.0]}]
    texts = t2i.captions_for(meta, torch.zeros(8, dtype=torch.long), random.Random(0), dropout=0.0, omit=0.0)
    assert set(texts) == {"a small red circle on the left on a gray background"}
    shortest = t2i.captions_for(meta, torch.zeros(8, dtype=torch.long), random.Random(0), dropout=0.0, omit=1.0)
    assert set(shortest) == {"a red circle"}
