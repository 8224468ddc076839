"""Normalizing flows: an invertible network with an exact likelihood; samples at a temperature, pictures
encoded and decoded exactly, walks between two pictures' z."""

from pathlib import Path

from ... import recipes
from ...models.spec import ModelSpec
from ..base import MODEL, Example, Family, Kind, builtin, tiny_spec

POINT_SETS = ("two moons", "rings")  # the 2-D flow's data sets (the training lab's), here so the tab imports no torch
MAX_POINT_STEPS = 2_000  # a 2-D flow's training steps in one request: a few seconds on a CPU core per 400

MODELS = (
    ModelSpec("builtin/shapes-flow", "flow_sample", "glow", builtin("shapes-flow"),
              description="Built-in class-conditional Glow trained on the shapes world (32×32): exact bits/dim."),
)

EXPLANATION = """\
**Normalizing flow** (Glow; not the DiT's "rectified flow", which is a diffusion model). One network,
run forwards, turns a picture x into a Gaussian z of the same size; run backwards it turns z into a picture.

- **Invertible.** Every layer can be undone exactly: **ActNorm** (a scale and shift per channel), an
  invertible **1×1 convolution** (mixes channels) and an **affine coupling** (half the channels give the other
  half a shift and a scale). **Encode and decode** prints the largest pixel change of the round trip:
  float rounding, about 1e-6. A **squeeze** folds 2×2 pixels into channels; each level splits half of
  them off as its z, so z has a fine, a middle and a coarse scale (the heat maps).
- **Exact likelihood.** By the change of variables, log p(x) = log N(z) + log|det| of every layer:
  no bound (a VAE gives one) and no discriminator (a GAN gives none). **Measure likelihood** reports
  **bits per dimension**: lower means more likely. **Dequantisation** spreads each 8-bit value over its
  1/256 bin, so a density can be measured on whole numbers. Noise and photos score far worse than
  shapes, and a plain background can score better than a real shape: likelihood is not quality.
- **Prompt.** A colour, a shape and optionally a background ("a red circle on a gray background"): the
  flow is class-conditional on the same 20 colour×shape classes as the GANs, and 3 backgrounds.
- **Temperature** scales z's spread before decoding: 0 draws each class's most likely z (its mean),
  1 the learnt spread; about 0.7 (Glow's choice) gives cleaner pictures. **Images** and **Seed**: how
  many, and which noise (picture i from seed + i).
- **Walk.** Both pictures are encoded exactly, so the walk starts and ends on them (a GAN must first
  search for a z)."""


def build_flow(folder, spec, device):
    from .glow import Glow

    # Stored in fp16 (the built-ins share a weight budget); run in fp32, where the inverse is exact to 1e-6.
    return Glow.from_pretrained(folder).float().to(device).eval()


def sample_snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "temperature": metadata.get("temperature"),
               "num_images": metadata.get("num_images", 1), "seed": metadata.get("seed", 0)}
    return "\n".join([
        "from genart_playground import flow_sample",
        "",
        recipes.call("flow_sample", [repr(metadata.get("prompt", "a red circle"))], options),
        "for i, image in enumerate(result.images):",
        "    image.save(f\"flow_{i}.png\")",
        "print(result.metrics[\"bits_per_dim\"])",
    ])


def plain_sample_snippet(metadata: dict, spec) -> str:
    """The same pictures from the network file alone: the class, then z drawn and run backwards."""
    return "\n".join([
        "import torch",
        "from genart_playground.families.flow_sample.glow import Glow  # the whole network is this one file",
        "from genart_playground.families.flow_sample.flow_sample import draws  # seed -> background, noise",
        "",
        f"flow = Glow.from_pretrained({str(spec.source)!r}).float().eval()",
        f"labels = torch.tensor({metadata.get('labels')!r})  # {metadata.get('classes')}",
        f"_, eps = draws(flow, [{metadata.get('seed', 0)} + i for i in range(len(labels))])",
        "with torch.no_grad():",
        f"    pixels = flow.decode(flow.embed(labels), temperature={metadata.get('temperature')!r}, eps=eps)",
        "print(pixels.shape, pixels.clamp(0, 1).mean())",
    ])


def likelihood_snippet(metadata: dict) -> str:
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import flow_likelihood",
        "",
        "images = [Image.open(\"input.png\")]  # the same pictures",
        recipes.call("flow_likelihood", ["images"], {"model": metadata.get("model")}),
        "print(result.metrics[\"bits_per_dim\"])",
    ])


def round_trip_snippet(metadata: dict) -> str:
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import flow_round_trip",
        "",
        "image = Image.open(\"input.png\")  # the same picture",
        recipes.call("flow_round_trip", ["image"], {"model": metadata.get("model")}),
        "print(result.metrics[\"max_abs_error\"])",
    ])


def walk_snippet(metadata: dict) -> str:
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import flow_walk",
        "",
        "image_a = Image.open(\"a.png\")  # the same two pictures",
        "image_b = Image.open(\"b.png\")",
        recipes.call("flow_walk", ["image_a", "image_b"], {"model": metadata.get("model"),
                                                           "frames": metadata.get("frames")}),
        "with open(\"walk.gif\", \"wb\") as file:",
        "    file.write(result.gif)",
    ])


def tiny(folder: Path) -> ModelSpec:
    """A random Glow, 8×8, two levels, with the built-in's classes."""
    import torch

    from .classes import flow_codes
    from .glow import Glow

    torch.manual_seed(0)
    flow = Glow(image_size=8, levels=2, steps_per_level=1, hidden=8, embed_dim=4, codes=flow_codes())
    with torch.no_grad():  # priors off zero, so classes and seeds draw different pictures
        for prior in flow.priors:
            prior.condition.weight.normal_(0.0, 0.3)
    flow.half().save_pretrained(folder)  # as the built-in is stored
    return tiny_spec(folder, "flow_sample", "glow", "Tiny random Glow, 8×8 (tests).")


FAMILY = Family(
    id="flow_sample",
    title="Normalizing flow",
    default_model="builtin/shapes-flow",
    default_env="GENART_FLOW_MODEL",
    kinds=(Kind("glow", build_flow),),
    models=MODELS,
    api={"flow_sample": f"{__name__}.flow_sample:flow_sample",
         "flow_likelihood": f"{__name__}.flow_likelihood:flow_likelihood",
         "flow_round_trip": f"{__name__}.flow_round_trip:flow_round_trip",
         "flow_walk": f"{__name__}.flow_walk:flow_walk",
         "flow_points": f"{__name__}.flow_points:flow_points",
         "FlowResult": f"{__name__}.flow_result:FlowResult"},
    python_only=("FlowResult",),  # what the functions return: a class, no endpoint
    snippets={"flow_sample": sample_snippet, "flow_likelihood": likelihood_snippet,
              "flow_round_trip": round_trip_snippet, "flow_walk": walk_snippet},
    plain_snippets={"flow_sample": plain_sample_snippet},
    summary=("A normalizing flow is one invertible network: forwards it turns a picture into Gaussian noise z, "
             "backwards it turns z into a picture. Because nothing is lost, it gives the exact likelihood of "
             "any picture, in bits per dimension, and encodes a picture to z and back exactly."),
    explanation=EXPLANATION,
    key_ideas=("Invertible", "ActNorm", "1×1 convolution", "affine coupling", "squeeze", "Exact likelihood",
               "change of variables", "bits per dimension", "Dequantisation", "Temperature", "likelihood is not quality"),
    tab=f"{__name__}.tab",
    trainers={"flow": f"{__name__}.train_flow"},
    tiny=tiny,
    bench=f"{__name__}.bench:flow_figures",
    capabilities={"sample_prompts": f"{__name__}.flow_sample:sample_prompts",
                  "train_pictures": f"{__name__}.train_pictures:train_pictures"},
    example=Example(args=("a red circle",), options={"temperature": 0.7, "num_images": 2, "seed": 3},
                    refused={"temperature": 9.0, "num_images": 10_000, "seed": -1},
                    endpoint=("a red circle", MODEL, 0.7, 2, 3), seed_input=4, button="Sample"),
)
