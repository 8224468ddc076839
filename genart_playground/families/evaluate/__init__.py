"""The evaluation lab: how generated pictures are judged (quality, prompt consistency, diversity,
controllability, speed), on any text-to-image or GAN model, and models side by side.

Its own models are feature networks: the spaces FID, KID, precision/recall and diversity are measured in.
"""

from pathlib import Path

from ... import recipes
from ...models.spec import ModelSpec
from ..base import Family, Kind, builtin, tiny_spec

GRID_AXES = ("prompt", "seed", "steps", "guidance", "scheduler")  # what an X/Y grid's axes may vary
DRAWS_WITH = ("sample_prompts", "sample")  # the capabilities a family's models are judged through

CLIP_MODEL = "openai/clip-vit-base-patch32"  # CLIP score (and CLIP features) when it is in the local HF cache

MODELS = (
    ModelSpec("builtin/shapes-features", "evaluate", "shapes-features", builtin("shapes-features"),
              description="Built-in shapes-world classifier: the evaluation lab's feature space (64 numbers)."),
    ModelSpec(CLIP_MODEL, "evaluate", "clip", CLIP_MODEL,
              description="CLIP ViT-B/32: CLIP score, and FID in CLIP's image features (used when cached)."),
)

EXPLANATION = """\
**Evaluation lab.** A generated picture has no right answer to compare with, so it is judged as part
of a set, against real pictures and against its prompt. Pick the **Models**, a **Prompt set** (or type
**Prompts**, one per line), how many **Samples per prompt** and a **Seed**.

- **Quality.** FID and KID compare the set with 512 real shapes-world pictures in a *feature space*:
  the last hidden layer of a small classifier this project trained (builtin/shapes-features), as FID on
  MNIST uses an MNIST classifier. Lower is better. FID fits one Gaussian per set, so it needs
  many samples: with a few dozen it is biased upwards (KID is not). Precision asks whether each picture lies
  near real ones, recall whether the real ones are reached; density and coverage are their robust forms.
  *Clean* is the checker's share of pictures showing one clean shape.
- **Prompt consistency.** The checker reads colour, shape, size, position and background from the
  pixels and compares them with the prompt's words.
- **Diversity.** Mean distance between pictures of one prompt, over the real pictures' own (1 is as
  varied). For a GAN, the histogram of colour×shape×background combinations shows mode collapse.
- **Controllability.** One word of a prompt changed, the seed kept: how often exactly that attribute
  changes and the others stay.
- **Speed.** Seconds and network evaluations per picture.

Every metric can be gamed: a model that copies its training pictures scores perfect FID and precision;
a feature space sees only what its network learned (this one knows nothing of texture).

**X/Y grid.** One picture of the **Grid model** per pair of values: **X axis** with its **X values** across, **Y axis** with
its **Y values** down (comma-separated), the rest from **Prompt**, **Grid seed**, **Steps** and
**Guidance**. The checker's verdict is under each cell."""


def build_features(folder, spec, device):
    from .shapes_features import ShapesFeatures

    return ShapesFeatures.from_pretrained(folder).to(device).eval()


def build_clip(folder, spec, device):
    from .clip_features import ClipFeatures

    return ClipFeatures.from_pretrained(folder).to(device).eval()


def snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "task": metadata.get("model_task", "text_to_image"),
               "samples_per_prompt": metadata.get("samples_per_prompt", 4), "seed": metadata.get("seed", 0)}
    if metadata.get("prompt_list"):
        options["prompts"] = metadata["prompt_list"]
    return "\n".join([
        "from genart_playground import evaluate",
        "",
        recipes.call("evaluate", [], options),
        "for name, value in result.metrics.items():",
        "    print(f\"{name}: {value:.4f}\")",
    ])


def compare_snippet(metadata: dict) -> str:
    options = {"prompts": metadata.get("prompts"), "samples_per_prompt": metadata.get("samples_per_prompt", 4),
               "seed": metadata.get("seed", 0)}
    return "\n".join([
        "from genart_playground import compare",
        "",
        recipes.call("compare", [repr(metadata.get("models") or [metadata.get("model")])], options),
        "for row in result.table:",
        "    print(row)",
    ])


def grid_snippet(metadata: dict) -> str:
    options = {key: metadata.get(key) for key in ("model", "x", "x_values", "y", "y_values", "prompt", "seed",
                                                  "steps", "guidance")}
    return "\n".join([
        "from genart_playground import xy_grid",
        "",
        recipes.call("xy_grid", [], options),
        "result.images[0].save(\"grid.png\")",
    ])


def tiny(folder: Path) -> ModelSpec:
    from .shapes_features import ShapesFeatures

    ShapesFeatures(width=8, num_features=16).save_pretrained(folder)
    return tiny_spec(folder, "evaluate", "shapes-features", "Tiny random shapes-world classifier (tests).")


FAMILY = Family(
    id="evaluate",
    title="Evaluation lab",
    default_model="builtin/shapes-features",
    default_env="GENART_FEATURES_MODEL",
    kinds=(Kind("shapes-features", build_features), Kind("clip", build_clip, abilities=("match_text",))),
    models=MODELS,
    api={"evaluate": f"{__name__}.evaluate:evaluate",
         "evaluate_images": f"{__name__}.evaluate:evaluate_images",
         "compare": f"{__name__}.evaluate:compare",
         "xy_grid": f"{__name__}.xy_grid:xy_grid"},
    python_only=("evaluate_images", "compare"),
    snippets={"evaluate": snippet, "compare": compare_snippet, "xy_grid": grid_snippet},
    summary=("How good is a model? Make many pictures, then measure them: quality against real pictures, "
             "agreement with the prompt, variety, and whether changing one word changes just that."),
    explanation=EXPLANATION,
    key_ideas=("feature space", "FID", "KID", "Precision", "recall", "mode collapse", "gamed", "many samples"),
    tab="genart_playground.ui.tab_evaluate",
    trainers={"features": f"{__name__}.train_features"},
    tiny=tiny,
    bench=f"{__name__}.bench:evaluation_figures",
)
