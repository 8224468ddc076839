"""The text-to-image tab's transformer views through gradio_client: the token timeline, the codebook
explorer, one prompt through three families and the steps sweep; and the built-in models behind them."""

import numpy as np
import pytest
from PIL import Image

from genart_playground import compare_families, steps_sweep
from genart_playground.data import shapes
from genart_playground.ui import transformer_views as views


def test_the_token_views_use_the_tabs_model_only_when_it_is_a_token_model(tiny_vqgpt, tiny_t2i):
    assert views.token_settings(tiny_vqgpt, 2.5, 0.8, 4) == {"model": tiny_vqgpt, "guidance": 2.5,
                                                               "temperature": 0.8, "top_k": 4}
    assert views.token_settings(tiny_t2i, 7.0, 0.8, 4) == {"model": views.TOKEN_MODEL}  # its own settings


def test_compare_families_runs_each_model_and_reads_its_picture(tiny_t2i, tiny_dit, tiny_vqgpt):
    result = compare_families("a red circle", seed=4, models=[tiny_t2i, tiny_dit, tiny_vqgpt])
    assert [row["model"] for row in result.rows] == [tiny_t2i, tiny_dit, tiny_vqgpt] and len(result.images) == 3
    assert [row["network_evaluations"] for row in result.rows] == [4, 4, 128]  # 2 steps (×2 guided); 64 tokens ×2
    assert result.rows[2]["family"] == "autoregressive transformer (VQ tokens)"
    assert all(row["seconds"] > 0 and isinstance(row["right"], bool) and row["checker"] for row in result.rows)
    with pytest.raises(ValueError, match="`models` must name 1 to"):
        compare_families("a red circle", models=[])
    with pytest.raises(ValueError, match="`prompt` must not be empty"):
        compare_families("  ")


def test_a_public_server_compares_the_three_families_and_bounds_their_work_together(tiny_t2i, tiny_dit, tiny_vqgpt,
                                                                                    monkeypatch, fresh_cache):
    from genart_playground import limits

    # As GENART_PUBLIC=1 sets them at import: two models side by side elsewhere, a budget for the whole request.
    monkeypatch.setattr(limits, "PUBLIC", True)
    monkeypatch.setattr(limits, "MAX_COMPARE_MODELS", 2)
    result = compare_families("a red circle", models=[tiny_t2i, tiny_dit, tiny_vqgpt])
    assert len(result.images) == 3
    loads = fresh_cache.loads
    heavy = ["stabilityai/stable-diffusion-3.5-medium", "black-forest-labs/FLUX.1-schnell", tiny_t2i]
    with pytest.raises(ValueError, match="comparison is .* step-pixels"):
        compare_families("a red circle", models=heavy)  # 40 steps at 1024² alone is over a CPU's budget
    assert fresh_cache.loads == loads  # refused before any model work


def test_the_checker_verdict_reads_a_rendered_scene_as_right():
    scene = shapes.Scene("red", "circle", "large", "left", "white", 30.0, (20.0, 32.0))
    read, right = views_verdict(shapes.render(scene), shapes.full_caption(scene))
    assert right and "red circle" in read
    read, right = views_verdict(shapes.render(scene), "a blue square")
    assert not right


def views_verdict(image, prompt):
    from genart_playground.families.text_to_image.family_comparison import verdict

    return verdict(image, prompt)


def test_the_steps_sweep_measures_each_model_at_each_step_count(tiny_t2i, tiny_dit, tiny_vqgpt, fresh_cache):
    result = steps_sweep(models=[tiny_t2i, tiny_dit], steps=(1, 3), prompts=2)
    assert [(row["model"], row["steps"]) for row in result.rows] == [(tiny_t2i, 1), (tiny_t2i, 3), (tiny_dit, 1),
                                                                       (tiny_dit, 3)]
    assert all(0.0 <= row["quality"] <= 1.0 for row in result.rows) and len(result.images) == 4
    loads = fresh_cache.loads
    with pytest.raises(ValueError, match="has no steps"):
        steps_sweep(models=[tiny_vqgpt])
    with pytest.raises(ValueError, match="`steps` must be between 1 and"):
        steps_sweep(models=[tiny_t2i], steps=(0,))
    with pytest.raises(ValueError, match="`prompts` must be between 1 and 16"):
        steps_sweep(models=[tiny_t2i], prompts=100)
    assert fresh_cache.loads == loads


@pytest.mark.server
def test_the_token_timeline_endpoint(api_client, tiny_vqgpt):
    frame, gif, codes, metadata = api_client.predict("a red circle", "", tiny_vqgpt, 2.0, 3, 1.0, 8,
                                                     api_name="/token_timeline")
    assert metadata["task"] == "token_timeline" and metadata["model"] == tiny_vqgpt
    assert Image.open(frame).size == (64, 64) and Image.open(gif).format == "GIF"
    assert len(codes["data"]) == 8


@pytest.mark.server
def test_the_codebook_explorer_endpoint(api_client, tiny_vqgpt, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "scene.png"
    shapes.render(shapes.Scene("blue", "square", "large", "center", "black", 30.0, (32.0, 32.0))).save(path)
    grid, rebuilt, atlas, codes, metrics, metadata = api_client.predict(handle_file(str(path)), tiny_vqgpt,
                                                                        api_name="/codebook_explorer")
    assert Image.open(grid).size == (256, 256) and Image.open(rebuilt).size == (64, 64)
    assert len(codes["data"]) == 8 and metrics["psnr"] > 0 and metadata["task"] == "codebook_explorer"


@pytest.mark.server
def test_the_comparison_endpoints_run_the_built_ins(api_client):
    from genart_playground.families.text_to_image.family_comparison import ARCHITECTURES
    from genart_playground.models import loading, registry

    shipped = [m for m in ARCHITECTURES if loading.availability(registry.resolve("text_to_image", m)) != "missing"]
    pictures, table, metadata = api_client.predict("a red circle on the left", 1, api_name="/compare_families")
    assert [row[0] for row in table["data"]] == shipped and len(shipped) >= 2
    assert len(pictures) == len(shipped) and all(np.asarray(Image.open(p["image"])).shape == (64, 64, 3) for p in pictures)
    plot, points, sweep_metadata = api_client.predict(1, api_name="/steps_sweep")
    assert len(points["data"]) == 2 * len(views.SWEEP_STEPS) and sweep_metadata["task"] == "steps_sweep"


def test_the_steps_sweep_draws_each_model_in_its_own_colour_named_under_the_plot():
    """Issue 34 §1.6: the sweep's two lines had no legend. Each swept model has a fixed colour, and the line
    under the plot names the model of each colour."""
    from genart_playground.families.text_to_image.family_comparison import SWEEP_MODELS
    from genart_playground.ui import transformer_views

    assert set(transformer_views.SWEEP_COLOURS) == set(SWEEP_MODELS)
    assert len(set(transformer_views.SWEEP_COLOURS.values())) == len(SWEEP_MODELS)
    for model in SWEEP_MODELS:
        assert f"**{model}**" in transformer_views.SWEEP_LEGEND
