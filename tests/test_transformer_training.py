"""The two transformer training scripts on tiny models: they train, ship a folder the model layer loads,
resume from their checkpoints, and stop when asked."""

import json

import pytest
import torch
from safetensors.torch import load_file

from genart_playground import text_to_image
from genart_playground.models.registry import ModelSpec, register, unregister
from genart_playground.families.text_to_image.token_transformer import TokenModel
from genart_playground.families.text_to_image import train_dit as dit, train_vqgpt as vqgpt

pytestmark = pytest.mark.slow  # trains the DiT and the token model

DIT = ["--width", "32", "--layers", "1", "--text_width_2", "8", "--dataset_size", "32", "--batch_size", "4",
       "--eval_steps", "1", "--threads", "1", "--warmup", "1"]
VQGPT = ["--codebook", "16", "--vq_steps", "2", "--decoder_steps", "2", "--vq_batch_size", "2", "--restart_every", "1",
         "--width", "16",
         "--layers", "1", "--dataset_size", "32", "--batch_size", "4", "--threads", "1", "--warmup", "1"]


def test_the_dit_script_ships_an_sd3_pipeline_and_resumes(tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    dit.main([*DIT, "--steps", "2", "--eval_every", "2", "--run_dir", str(run), "--out", str(out)])
    index = json.loads((out / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusion3Pipeline" and index["text_encoder_3"] == [None, None]
    assert json.loads((out / "training_state.json").read_text())["step"] == 2
    # Resumed to 3 steps: it starts from the checkpoint of step 2, not from scratch.
    before = load_file(str(run / "checkpoint" / "transformer.safetensors"))
    stops = iter([True])
    dit.train(dit.parse_config(dit.DitConfig, [*DIT, "--steps", "3", "--eval_every", "100", "--run_dir", str(run),
                                               "--out", str(out)]), should_stop=lambda: next(stops))
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    assert state["step"] == 3
    after = load_file(str(run / "checkpoint" / "transformer.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before)

    # The shipped folder runs through text_to_image with the one T5 token it was trained with.
    spec = register(ModelSpec("tests/trained-dit", "text_to_image", "diffusers-pipeline", str(out),
                              defaults={"steps": 2, "guidance": 2.0, "pipeline_options": {"max_sequence_length": 1}}))
    try:
        result = text_to_image("a red circle", model=spec.name, seed=0)
        assert result.images[0].size == (64, 64) and result.metadata["scheduler_class"] == "FlowMatchEulerDiscreteScheduler"
    finally:
        unregister(spec.name)


def test_the_vqgpt_script_trains_both_parts_and_ships_a_token_model(tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    vqgpt.main([*VQGPT, "--steps", "2", "--eval_every", "2", "--run_dir", str(run), "--out", str(out)])
    assert (run / "vqvae" / "config.json").is_file()  # part 1 done: a second run skips it
    assert (run / "vqvae_decoder" / "config.json").is_file()  # part 1b too
    state = json.loads((out / "training_state.json").read_text())
    assert state["step"] == 2 and 0 <= state["vq"]["psnr"] and 0 <= state["scores"]["train/color+shape"] <= 1
    layout = json.loads((out / "vqgpt.json").read_text())
    assert layout["codebook"] == 16 and layout["grid"] == 8
    # The shipped transformer is stored in half precision and computes in float32.
    stored = load_file(str(out / "transformer" / "model.safetensors"))
    assert {w.dtype for w in stored.values()} == {torch.float16}
    assert TokenModel.from_pretrained(out).transformer.dtype == torch.float32
    spec = register(ModelSpec("tests/trained-vqgpt", "text_to_image", "token-transformer", str(out),
                              defaults={"width": 64, "height": 64, "top_k": 8}))
    try:
        result = text_to_image("a red circle", model=spec.name, seed=0)
        assert result.images[0].size == (64, 64) and result.metadata["tokens"] == 64
    finally:
        unregister(spec.name)
    # Resumed: the transformer goes on from its checkpoint (step 2 -> 3), the autoencoder is not retrained.
    vq_weights = (run / "vqvae" / "diffusion_pytorch_model.safetensors").read_bytes()
    vqgpt.main([*VQGPT, "--steps", "3", "--eval_every", "100", "--run_dir", str(run), "--out", str(out)])
    assert (run / "vqvae" / "diffusion_pytorch_model.safetensors").read_bytes() == vq_weights
    assert json.loads((run / "checkpoint" / "state.json").read_text())["step"] == 3


def test_the_autoencoder_resumes_with_its_codebook(tmp_path):
    """A resumed part 1 goes on from the saved codes: a code no patch picks in the next step keeps its
    vector (a resume once restarted the k-means statistics from the fresh network's random codes, and
    every code moved towards those)."""
    run, out = tmp_path / "run", tmp_path / "out"
    codebook, patches = 256, 64  # one 64×64 picture a step is an 8×8 grid: 64 patches pick at most 64 codes
    options = [*VQGPT, "--codebook", str(codebook), "--vq_batch_size", "1", "--run_dir", str(run), "--out", str(out)]
    for vq_steps in ("1", "2"):
        config = vqgpt.parse_config(vqgpt.VqgptConfig, [*options, "--vq_steps", vq_steps])
        vqgpt.train(config, should_stop=lambda: True)
        codes = load_file(str(run / "vq_checkpoint" / "vqvae.safetensors"))["quantize.embedding.weight"]
        if vq_steps == "1":
            saved = codes
    assert json.loads((run / "vq_checkpoint" / "state.json").read_text())["step"] == 2
    # A code nobody picks is its running sum over its running count, both decayed alike: the same vector
    # up to float rounding (0.99·c / 0.99), so compared within rounding, not bit for bit.
    kept = sum(torch.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(saved, codes))
    # Whatever the seed: at most 64 codes can move in one step, and at least one does (a picked code moves
    # towards an encoder output the first step's optimiser has changed).
    assert codebook - patches <= kept < codebook, kept


def test_the_autoencoder_loss_weighs_the_outline_over_the_background():
    """The same error costs more on a shape's outline than in plain background, so the autoencoder
    keeps small shapes' corners instead of rounding them into circles; weight 0 is plain MSE."""
    picture = torch.full((1, 3, 64, 64), -1.0)
    picture[:, :, 24:40, 24:40] = 1.0  # a white square on black
    on_outline, in_background = picture.clone(), picture.clone()
    on_outline[:, :, 24, 24:40] = 0.0
    in_background[:, :, 4, 4:20] = 0.0
    assert vqgpt.weighted_mse(on_outline, picture, 4.0) > 2 * vqgpt.weighted_mse(in_background, picture, 4.0)
    assert torch.allclose(vqgpt.weighted_mse(on_outline, picture, 0.0), torch.nn.functional.mse_loss(on_outline, picture))


def test_the_decoder_part_keeps_every_token_and_changes_only_the_decoder(tmp_path):
    """Part 1b trains the decoder alone: the encoder and the codebook are the same to the bit, so
    every picture keeps its tokens (a transformer trained on them still fits), and the decoder moved."""
    from diffusers import VQModel

    run, out = tmp_path / "run", tmp_path / "out"
    vqgpt.main([*VQGPT, "--decoder_steps", "3", "--steps", "1", "--run_dir", str(run), "--out", str(out)])
    before, after = (VQModel.from_pretrained(run / folder) for folder in ("vqvae", "vqvae_decoder"))
    weights, polished = before.state_dict(), after.state_dict()
    assert all(torch.equal(weights[k], polished[k]) for k in weights if not k.startswith(("decoder.", "post_quant")))
    assert any(not torch.equal(weights[k], polished[k]) for k in weights if k.startswith("decoder."))
    pictures = vqgpt.as_input(vqgpt.heldout_pictures(4))
    with torch.no_grad():
        codes = [model.quantize(model.encode(pictures).latents)[2][2] for model in (before, after)]
    assert torch.equal(*codes)
    shipped = TokenModel.from_pretrained(out).vqvae.state_dict()  # the model ships the new decoder
    assert all(torch.equal(shipped[k], polished[k]) for k in polished)


def test_the_dit_script_ships_the_schedules_last_step_even_when_an_earlier_one_scored_as_well(tmp_path):
    """Near the top the 88-picture check cannot tell weights apart, so the schedule's end is shipped;
    with `--ship_last false` the first of equally scored evaluations stays shipped."""
    shipped = {}
    for ship_last in ("true", "false"):
        run, out = tmp_path / ship_last / "run", tmp_path / ship_last / "out"
        dit.main([*DIT, "--steps", "2", "--eval_every", "1", "--ship_last", ship_last, "--run_dir", str(run),
                  "--out", str(out)])
        shipped[ship_last] = json.loads((out / "training_state.json").read_text())
    assert shipped["true"]["step"] == 2
    if shipped["false"]["scores"] == shipped["true"]["scores"]:  # a tie (tiny models score 0): the first stays
        assert shipped["false"]["step"] == 1
