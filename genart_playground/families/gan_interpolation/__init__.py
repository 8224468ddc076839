"""GANs: a generator's latent space, walked from one seed's picture to another's; a StyleGAN's styles, mixed."""

from pathlib import Path

from ... import recipes
from ...models.spec import ModelSpec
from ..base import MODEL, Example, Family, Kind, Tiny, builtin, tiny_spec

WALK_METHODS = ("slerp", "lerp")  # paths between two latents (latents.py draws them)

MODELS = (
    ModelSpec("builtin/shapes-gan", "gan_interpolation", "gan-generator", builtin("shapes-gan"),
              description="Built-in DCGAN generator trained on the shapes world (64×64)."),
    ModelSpec("builtin/shapes-stylegan", "gan_interpolation", "stylegan-generator", builtin("shapes-stylegan"),
              description="Built-in StyleGAN generator trained on the shapes world (64×64): W space, style mixing."),
)

EXPLANATION = """\
**GAN.** A *generator* turns a random latent vector into a picture; a *discriminator* learns to tell
its pictures from real ones, and the generator learns from its verdicts. Only the generator is shipped.

- **Latent space.** Each seed (**Seed A**, **Seed B**) draws a latent vector z from a standard
  Gaussian (64 numbers here). The **Frames** walk from seed A's z to seed B's.
- **slerp vs lerp** (**Path**). A Gaussian vector's length is almost always close to √d (8 for d = 64).
  lerp cuts inside that shell (halfway, about 0.71 of the usual length, where the generator saw few
  latents: washed-out pictures); slerp follows the sphere.
- **Codes.** In the built-in generators the angle of z's first two numbers picks one of the 20
  colour×shape combinations, the next two the background; each frame is captioned with them. The
  discriminator is told the same classes (a *class-conditional* GAN).
- **Mode collapse.** A GAN can win by drawing only a few kinds of picture well; the codes make every
  combination equally likely (an unconditional version never drew green).
- **Truncation** pulls latents towards the mean: more typical, cleaner pictures, less variety.

**StyleGAN** (builtin/shapes-stylegan):

- **Mapping network and W.** A small network turns z into a *style* w, and pictures are drawn from w.
  z must fill a Gaussian ball; the mapping can unbend it, so equal steps in W change the picture by
  similar amounts. **Space** W walks a straight line between the two seeds' styles: where a Z walk
  switches class within a frame, a W walk blends.
- **A style at every layer.** From a learnt 4×4 constant, each layer scales its convolution's kernel by
  its view of w (*modulation*), renormalises it (*demodulation*) and adds per-pixel noise.
- **Truncation** here pulls w towards the mean style, whose own picture is shown beside the walk.
- **Style mixing.** The layers before the **Crossover** take a *coarse* seed's w, the rest a *fine*
  seed's: fine seeds along the top of the grid, coarse seeds down the left, as in the StyleGAN paper.
  The project's checker reads each mix and names the seed each attribute came from, at every
  crossover: which layers decide shape, colour, size, position and background."""


def build_generator(folder, spec, device):
    from .dcgan import Generator

    return Generator.from_pretrained(folder).to(device).eval()


def build_style_generator(folder, spec, device):
    from .stylegan import StyleGenerator

    # Stored in fp16 (the built-ins share a 40 MB budget); fp32 costs nothing at this size.
    return StyleGenerator.from_pretrained(folder).float().to(device).eval()


def is_style_generator_config(config: dict) -> bool:
    """A StyleGenerator's config.json: it has a mapping network (the DCGAN's has neither of these)."""
    return {"w_dim", "mapping_layers"} <= config.keys()


def snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "frames": metadata.get("frames"), "method": metadata.get("method"),
               "truncation": metadata.get("truncation"), "space": metadata.get("space", "z")}
    return "\n".join([
        "from genart_playground import gan_interpolation",
        "",
        recipes.call("gan_interpolation", [repr(metadata.get("seed_a")), repr(metadata.get("seed_b"))], options),
        "with open(\"walk.gif\", \"wb\") as file:",
        "    file.write(result.gif)",
    ])


def mixing_snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model"), "crossover": metadata.get("crossover"),
               "truncation": metadata.get("truncation")}
    return "\n".join([
        "from genart_playground import style_mixing",
        "",
        recipes.call("style_mixing", [repr(metadata.get("coarse_seeds")), repr(metadata.get("fine_seeds"))], options),
        "result.grid.save(\"style_mixing.png\")",
    ])


def build_tiny_gan(folder: Path) -> Path:
    import torch

    from .dcgan import Generator

    torch.manual_seed(0)
    generator = Generator(latent_dim=8, width=8, image_size=64)
    # DCGAN's N(0, 0.02) start draws the same flat grey for every seed; wider weights make
    # seeds differ, so tests can tell one seed's image from another's.
    with torch.no_grad():
        for parameter in generator.parameters():
            parameter.normal_(0.0, 0.5)
    generator.save_pretrained(folder)
    return folder


def build_tiny_stylegan(folder: Path) -> Path:
    """A random StyleGAN generator drawing 64×64 (the checker's size), with the shapes world's codes."""
    import torch

    from .stylegan import StyleGenerator
    from ...data.shapes import shapes_codes

    torch.manual_seed(0)
    generator = StyleGenerator(z_dim=8, w_dim=8, mapping_layers=1, image_size=64, width=2, max_channels=4,
                               codes=shapes_codes()[:1])
    with torch.no_grad():  # a mean style off the origin, as training leaves it
        generator.map(torch.randn(64, 8), track=True)
    generator.half().save_pretrained(folder)  # as the built-in is stored
    return folder


def tiny_stylegan(folder: Path) -> ModelSpec:
    build_tiny_stylegan(folder)
    return tiny_spec(folder, "gan_interpolation", "stylegan-generator",
                     "Tiny random StyleGAN generator, 64×64 (tests).")


def tiny(folder: Path) -> ModelSpec:
    build_tiny_gan(folder)
    return tiny_spec(folder, "gan_interpolation", "gan-generator", "Tiny random DCGAN generator, 64×64 (tests).")


FAMILY = Family(
    id="gan_interpolation",
    title="GAN interpolation",
    default_model="builtin/shapes-gan",
    default_env="GENART_GAN_MODEL",
    kinds=(Kind("gan-generator", build_generator),
           # A mapping network: a W space and a style per layer.
           Kind("stylegan-generator", build_style_generator, recognises=is_style_generator_config,
                abilities=("w_space",))),
    models=MODELS,
    api={"gan_interpolation": f"{__name__}.gan_interpolation:gan_interpolation",
         "style_mixing": f"{__name__}.style_mixing:style_mixing"},
    snippets={"gan_interpolation": snippet, "style_mixing": mixing_snippet},
    summary=("A GAN generator turns a random latent vector into an image. Each seed picks a vector; "
             "the frames walk from seed A's vector to seed B's, so you watch one image morph into the other."),
    explanation=EXPLANATION,
    key_ideas=("generator", "discriminator", "Gaussian", "√d", "slerp", "lerp", "Truncation",
               "Mode collapse", "Mapping network", "W", "modulation", "mean style", "Style mixing", "Crossover"),
    tab="genart_playground.ui.tab_gan_interpolation",
    trainers={"gan": f"{__name__}.train_gan", "stylegan": f"{__name__}.train_stylegan"},
    tiny=tiny,
    bench=f"{__name__}.bench:gan_figures",
    capabilities={"sample": f"{__name__}.gan_interpolation:sample",
                  "train_pictures": f"{__name__}.train_pictures:train_pictures"},
    # A StyleGAN walks in W by default, where the path is a straight line (lerp).
    tinies=(Tiny("stylegan", tiny_stylegan,
                 Example(args=(3, 4), options={"frames": 4, "method": "lerp", "space": "w", "truncation": 0.7},
                         refused={"frames": 10_000, "method": "slerp", "space": "x", "truncation": 0.0},
                         endpoint=(3, 4, MODEL, 4, "lerp", 0.7, "w"), seed_input=0)),),
    example=Example(args=(3, 4), options={"frames": 4, "method": "slerp"},
                    refused={"frames": 10_000, "method": "teleport", "truncation": 0.0},
                    endpoint=(3, 4, MODEL, 4, "slerp", 1.0), seed_input=0, button="Interpolate"),
)
