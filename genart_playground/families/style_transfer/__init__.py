"""Style transfer: Gatys' optimisation against a feature network's Gram matrices, or diffusion img2img."""

from pathlib import Path

from ... import recipes
from ...models.spec import ModelSpec
from ..base import IMAGE, MODEL, Example, Family, Kind

METHODS = ("gatys", "img2img")
DEFAULT_STRENGTH = {"gatys": 0.5, "img2img": 0.6}  # how far from the content each method goes by default

MODELS = (
    ModelSpec("builtin/random-filters", "style_transfer", "random-filters", "seed:0",
              defaults={"size": 256, "steps": 100},  # 256 px: 8 s on 2 cores, 128 px saves only 1
              description="A fixed-seed bank of random multi-scale filters: needs no download."),
    ModelSpec("timm/vgg19.tv_in1k", "style_transfer", "vgg19", "timm/vgg19.tv_in1k",
              defaults={"size": 256, "steps": 150},
              description="VGG19 trained on ImageNet: the features of Gatys et al."),
)

EXPLANATION = """\
**Style transfer** (method gatys: Gatys, Ecker & Bethge 2016). A network's features describe the
picture. The *content loss* compares the result's features with the **Content image**'s at one layer
(what is where); the *style loss* compares their Gram matrices with the **Style image**'s at several.

- **Gram matrix.** For each pair of feature channels, how strongly they fire together, averaged over
  all positions. Position is averaged away, so what is left is texture and palette (which strokes,
  colours and patterns occur), not where they are.
- **Features.** VGG19, an image classifier, when its weights are downloaded. Offline, a fixed bank
  of random multi-scale filters (4 scales, plus 1×1 filters for colour): untrained random filters
  already carry texture, and their Gram matrices synthesise convincing textures (Ustyuzhaninov et
  al. 2016).
- **Optimisation.** The pixels themselves are what is trained. Starting from the content image
  (plus a little noise from the **Seed**), Adam changes them for **Steps** steps to lower
  content loss + w · style loss. The plot and the gallery show the losses and the picture as it goes.
- **Strength** sets w = 10^(4·strength − 1): 0 → 0.1 (barely touched), 0.5 → 10, 1 → 1000 (mostly
  the style's texture). **Keep the content's colours** keeps the result's brightness but the
  content's colours (luminance-only transfer). **Size** is the result's longest side in pixels: the
  style's strokes are matched at that scale, and each step costs about the number of pixels.
- **img2img** (**Method**), the diffusion alternative: noise the content image part of the way, then
  let a text-to-image model denoise it towards the **Style prompt** (SDEdit). There **Strength** is
  the share of the noise schedule redrawn: low keeps the layout, high redraws more freely."""


def build_random_filters(folder, spec, device):
    from .random_filters import RandomFilterBank

    return RandomFilterBank(seed=int(spec.source.split(":")[1])).to(device).eval()


def build_vgg19(folder, spec, device):
    from .vgg19 import VGG19Features

    return VGG19Features.from_safetensors(Path(folder) / "model.safetensors").to(device).eval()


def snippet(metadata: dict) -> str:
    img2img = metadata.get("method") == "img2img"
    options = {"model": metadata.get("model"), "method": metadata.get("method"), "steps": metadata.get("steps"),
               "size": metadata.get("size"), "strength": metadata.get("strength"),
               "seed": metadata.get("seed", 0), "preserve_color": metadata.get("preserve_color", False)}
    # The input images are not in the recipe (only their sizes): the snippet opens the user's copies.
    style = [] if img2img else ["style = Image.open(\"style.png\")  # the same style image"]
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import style_transfer",
        "",
        "content = Image.open(\"content.png\")  # the same content image",
        *style,
        recipes.call("style_transfer", ["content", repr(metadata.get("style", "")) if img2img else "style"], options),
        "result.images[0].save(\"stylised.png\")",
    ])


def tiny(folder: Path) -> ModelSpec:
    """The random filter bank with another seed: it has no files, so nothing is written."""
    return ModelSpec(f"tests/{Path(folder).name}", "style_transfer", "random-filters", "seed:7",
                     defaults={"size": 32, "steps": 2}, description="Random filters, another seed (tests).")


FAMILY = Family(
    id="style_transfer",
    title="Style transfer",
    default_model="builtin/random-filters",
    default_env="GENART_STYLE_MODEL",
    kinds=(Kind("random-filters", build_random_filters, config_file=None),
           Kind("vgg19", build_vgg19)),
    models=MODELS,
    api={"style_transfer": f"{__name__}.style_transfer:style_transfer"},
    snippets={"style_transfer": snippet},
    summary=("**gatys** repaints the content image until its texture statistics match the style image's "
             "(offline with a bank of random filters; with VGG19 when it is downloaded). "
             "**img2img** lets a text-to-image model redraw the picture towards a style prompt."),
    explanation=EXPLANATION,
    key_ideas=("Gram", "VGG19", "random", "Ustyuzhaninov", "Adam", "Strength", "img2img"),
    tab="genart_playground.ui.tab_style_transfer",
    tiny=tiny,
    example=Example(args=(IMAGE, IMAGE), options={"method": "gatys", "steps": 3, "size": 48, "seed": 1},
                    refused={"steps": 100_000, "size": 100_000, "strength": 5.0, "method": "oil paint"},
                    endpoint=(IMAGE, IMAGE, "", "gatys", MODEL, 3, 48, 0.5, 1, False), seed_input=8,
                    button="Transfer style"),
)
