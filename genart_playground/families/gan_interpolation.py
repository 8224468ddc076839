"""GANs: a generator's latent space, walked from one seed's picture to another's."""

from pathlib import Path

from .. import recipes
from ..models.spec import ModelSpec
from .base import MODEL, Example, Family, Kind, builtin

MODELS = (
    ModelSpec("builtin/shapes-gan", "gan_interpolation", "gan-generator", builtin("shapes-gan"),
              description="Built-in DCGAN generator trained on the shapes world (64×64)."),
)

EXPLANATION = """\
**GAN.** Two networks train against each other: the *generator* turns a random latent vector into a
picture, the *discriminator* tries to tell its pictures from real ones, and the generator learns from
the discriminator's verdicts. Only the generator is needed to draw (and only it is shipped).

- **Latent space.** Each seed (**Seed A**, **Seed B**) draws a latent vector z from a standard
  Gaussian (64 numbers for the built-in generator). Nearby vectors give similar pictures, so the
  **Frames** walk from seed A's z to seed B's and one picture morphs into the other.
- **slerp vs lerp** (**Path**). In d dimensions a Gaussian vector's length is almost always close to
  √d (8 for d = 64): the samples live near a shell. lerp, the straight line, cuts inside it: halfway
  between two seeds the length is about √(d/2), 0.71 of the usual, where the generator saw few
  latents (often washed-out pictures). slerp follows the sphere and keeps the length.
- **Codes** (the built-in generator). The angle of z's first two numbers picks one of the 20 training
  colour×shape combinations (the circle is cut into 20 equal sectors), the angle of the next two one
  of the 3 backgrounds; the other numbers place and size the shape. Each frame is captioned with what
  its codes name. During training the discriminator is told the same classes, so it can punish a
  green square that looks orange: a *class-conditional* GAN, with the class read from z itself.
- **Truncation** multiplies z by a factor below 1, pulling it towards the mean: more typical, often
  cleaner pictures, but less variety. It keeps z's angles, so it keeps the classes.
- **Mode collapse.** A generator can beat its discriminator by drawing only a few kinds of picture
  well. The built-in model's card measures coverage: among 512 samples judged by the project's
  checker, how many of the 20 training colour×shape combinations appear. (An unconditional version
  of it dropped green altogether; the codes make every combination equally likely.)"""


def build_generator(folder, spec, device):
    from ..networks.gan import Generator

    return Generator.from_pretrained(folder).to(device).eval()


def snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "frames": metadata.get("frames"), "method": metadata.get("method"),
               "truncation": metadata.get("truncation")}
    return "\n".join([
        "from genart_playground import gan_interpolation",
        "",
        recipes.call("gan_interpolation", [repr(metadata.get("seed_a")), repr(metadata.get("seed_b"))], options),
        "with open(\"walk.gif\", \"wb\") as file:",
        "    file.write(result.gif)",
    ])


def tiny(folder: Path) -> ModelSpec:
    from ..testing import build_tiny_gan

    build_tiny_gan(folder)
    return ModelSpec(f"tests/{folder.name}", "gan_interpolation", "gan-generator", str(folder),
                     description="Tiny random DCGAN generator, 64×64 (tests).")


FAMILY = Family(
    id="gan_interpolation",
    title="GAN interpolation",
    default_model="builtin/shapes-gan",
    default_env="GENART_GAN_MODEL",
    kinds=(Kind("gan-generator", build_generator),),
    models=MODELS,
    api={"gan_interpolation": "genart_playground.adapters.gan_interpolation:gan_interpolation"},
    snippets={"gan_interpolation": snippet},
    explanation=EXPLANATION,
    tab="genart_playground.ui.tab_gan_interpolation",
    trainers={"gan": "genart_playground.train.gan"},
    tiny=tiny,
    bench="genart_playground.scoring:gan_figures",
    example=Example(args=(3, 4), options={"frames": 4, "method": "slerp"},
                    refused={"frames": 10_000, "method": "teleport", "truncation": 0.0},
                    endpoint=(3, 4, MODEL, 4, "slerp", 1.0), seed_input=0),
)
