"""Image translation: conditional GANs that turn one kind of picture into another. Pix2Pix learns from
pairs (a sketch and its picture); CycleGAN from two piles that are not paired, one generator each way."""

from pathlib import Path

from ... import recipes
from ...data.directions import DIRECTIONS, PICTURE_TO_SKETCH, SKETCH_TO_PICTURE
from ...models.spec import ModelSpec
from ..base import IMAGE, MODEL, Example, Family, Kind, Tiny, builtin, tiny_spec

SD15 = "stable-diffusion-v1-5/stable-diffusion-v1-5"  # ControlNet scribble's base (a text-to-image model)

MODELS = (
    ModelSpec("builtin/shapes-pix2pix", "translate_image", "pix2pix", builtin("shapes-pix2pix"),
              description="Built-in Pix2Pix (U-Net + PatchGAN) trained on shapes-world sketch → picture pairs."),
    ModelSpec("builtin/shapes-cyclegan", "translate_image", "cyclegan", builtin("shapes-cyclegan"),
              description="Built-in CycleGAN trained on unpaired shapes-world sketches and pictures, both ways."),
    # The heirs of Pix2Pix, for a GPU (several GB each). `prompt` is what they draw when none is given.
    ModelSpec("lllyasviel/sd-controlnet-scribble", "translate_image", "controlnet", "lllyasviel/sd-controlnet-scribble",
              requires=(SD15,), defaults={"base": SD15, "size": 512, "steps": 20, "guidance": 7.5,
                                          "prompt": "a flat coloured shape on a plain background"},
              description="ControlNet scribble: the sketch steers Stable Diffusion 1.5 (512×512)."),
    ModelSpec("timbrooks/instruct-pix2pix", "translate_image", "instruct-pix2pix", "timbrooks/instruct-pix2pix",
              defaults={"size": 512, "steps": 20, "guidance": 7.5, "image_guidance": 1.5,
                        "prompt": "fill the outline with its colour"},
              description="InstructPix2Pix: Stable Diffusion retrained to edit a picture as an instruction says "
                          "(512×512)."),
)

EXPLANATION = """\
**Image translation.** A *conditional* GAN: the generator gets a picture (here a sketch) instead of
random numbers, and draws another picture from it.

- **Pix2Pix** learns from *pairs*: each sketch comes with the very picture it should become. Its
  generator is a U-Net: the sketch is shrunk to 4×4 (where the network sees the whole picture and
  decides what fills the outline), then grown back, with each size's features handed across, so the
  outline's exact place reaches the output directly.
- **L1 loss.** The pixels' mean distance to the true picture: it gets the colours and the layout
  right, but alone it gives blurry edges (the average of the plausible answers).
- **PatchGAN.** The discriminator scores overlapping 34×34 patches of (sketch, picture) pairs, not
  the whole picture. L1 already has the layout; the patch critic only has to make every patch look
  real: sharp edges, flat colour, no smudges.
- **CycleGAN** learns from two piles with *no pairs*: sketches of some scenes, pictures of others.
  Nothing says which picture a sketch should become, so it trains two generators, one each way, and
  asks for *cycle consistency*: sketch → picture → sketch must give the sketch back. The **Round
  trip** shows that return journey and its PSNR.
- **Why unpaired is harder.** A green square sketch could become any green-square picture, or a
  picture that hides the sketch in invisible details. **Compare with** runs a second model on the
  same input: Pix2Pix beside CycleGAN is paired against unpaired learning.
- **Direction.** Pix2Pix learnt one way; CycleGAN both (**picture_to_sketch** draws the outline).
- **Paper** and pens are the shapes world's backgrounds and colours: the models know no others. Any
  input is padded to a square with its own border colour and shrunk to the model's 64×64.
- **Seed** is recorded in the recipe. These GANs draw no noise at all, so the same input always gives
  the same picture.
- **Prompt** is for Pix2Pix's diffusion heirs (on a GPU): ControlNet scribble steers Stable Diffusion
  with the sketch and draws what the prompt says; InstructPix2Pix follows it as an instruction."""


def build_translator(folder, spec, device):
    from .translation import Translator

    return Translator.from_folder(Path(folder) / spec.subfolder if spec.subfolder else folder).to(device).eval()


def snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "direction": metadata.get("direction"), "seed": metadata.get("seed")}
    if "prompt" in metadata:  # a diffusion heir's
        options["prompt"] = metadata["prompt"]
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import translate_image",
        "",
        "image = Image.open(\"sketch.png\")  # the same input picture",
        recipes.call("translate_image", ["image"], options),
        "result.images[0].save(\"translation.png\")",
        "if result.cycle is not None:  # CycleGAN: the way back, and how close it came",
        "    result.cycle.save(\"round_trip.png\")",
        "    print(result.metrics)",
    ])


def build_tiny_translator(folder: Path, directions=("sketch_to_picture",)) -> Path:
    """A random U-Net per direction, 32×32, saved as the built-ins are (half precision)."""
    import torch

    from .translation import Translator, UNetGenerator

    torch.manual_seed(0)
    Translator({direction: UNetGenerator(width=4, depth=2, image_size=32) for direction in directions}
               ).save_pretrained(folder)
    return folder


def tiny_pix2pix(folder: Path) -> ModelSpec:
    build_tiny_translator(folder)
    return tiny_spec(folder, "translate_image", "pix2pix",
                     "Tiny random Pix2Pix generator, sketch to picture, 32×32 (tests).")


def tiny(folder: Path) -> ModelSpec:
    build_tiny_translator(folder, directions=DIRECTIONS)
    return tiny_spec(folder, "translate_image", "cyclegan", "Tiny random CycleGAN, both directions, 32×32 (tests).")


FAMILY = Family(
    id="translate_image",
    title="Image translation",
    default_model="builtin/shapes-pix2pix",
    default_env="GENART_TRANSLATION_MODEL",
    # A CycleGAN folder holds a generator folder per direction, so its first config is one level down.
    # Each kind's abilities name the directions it learnt; the diffusion heirs also denoise (a prompt, steps,
    # noise from the seed).
    kinds=(Kind("pix2pix", build_translator, abilities=(SKETCH_TO_PICTURE,)),
           Kind("cyclegan", build_translator, config_file=f"{SKETCH_TO_PICTURE}/config.json", abilities=DIRECTIONS),
           Kind("controlnet", f"{__name__}.sketch_diffusion:build_controlnet",
                abilities=(SKETCH_TO_PICTURE, "denoise")),
           Kind("instruct-pix2pix", f"{__name__}.sketch_diffusion:build_instruct",
                config_file="model_index.json", pipeline=True, abilities=(SKETCH_TO_PICTURE, "denoise"))),
    models=MODELS,
    api={"translate_image": f"{__name__}.translate_image:translate_image"},
    snippets={"translate_image": snippet},
    summary=("Draw a shape, or upload a sketch: a conditional GAN turns it into a picture. **Pix2Pix** "
             "learnt from sketches paired with their pictures, **CycleGAN** from sketches and pictures "
             "that were never paired. Both run side by side on the same input."),
    explanation=EXPLANATION,
    key_ideas=("Pix2Pix", "pairs", "U-Net", "L1 loss", "PatchGAN", "CycleGAN", "cycle consistency", "Direction",
               "Compare with"),
    tab="genart_playground.ui.tab_translate_image",
    trainers={"pix2pix": f"{__name__}.train_pix2pix", "cyclegan": f"{__name__}.train_cyclegan"},
    tiny=tiny,
    bench=f"{__name__}.bench:translation_figures",
    # Pix2Pix learnt one way: its example goes that way, and the other way is refused before it loads.
    tinies=(Tiny("pix2pix", tiny_pix2pix,
                 Example(args=(IMAGE,), options={"seed": 1}, refused={"direction": PICTURE_TO_SKETCH, "seed": "x"},
                         endpoint=(IMAGE, MODEL, "none", SKETCH_TO_PICTURE, 1, ""), seed_input=4)),),
    example=Example(args=(IMAGE,), options={"direction": PICTURE_TO_SKETCH, "seed": 1},
                    refused={"direction": "sideways", "seed": "x"},
                    endpoint=(IMAGE, MODEL, "none", PICTURE_TO_SKETCH, 1, ""), seed_input=4),
)
