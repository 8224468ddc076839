"""VAEs: what an autoencoder keeps and loses, its latent channels, and walks through its latent space."""

import json
from pathlib import Path

from ... import recipes
from ...models.spec import ModelSpec
from ..base import IMAGE, MODEL, Example, Family, Kind, builtin, tiny_spec

MODELS = (
    ModelSpec("builtin/photo-vae", "vae_reconstruction", "autoencoder", builtin("photo-vae"),
              description="The built-in photo AutoencoderKL, trained on freely licensed photos (4× down, 12 channels)."),
    ModelSpec("builtin/shapes-vae", "vae_reconstruction", "autoencoder", builtin("shapes-t2i"), subfolder="vae",
              description="The built-in text-to-image model's AutoencoderKL (4× down, 4 channels)."),
    ModelSpec("madebyollin/taesd", "vae_reconstruction", "autoencoder", "madebyollin/taesd",
              description="Tiny autoencoder for Stable Diffusion latents (8× down)."),
    ModelSpec("stabilityai/sd-vae-ft-mse", "vae_reconstruction", "autoencoder", "stabilityai/sd-vae-ft-mse",
              description="Stable Diffusion 1.x autoencoder fine-tuned for sharper reconstructions (8× down)."),
)

EXPLANATION = """\
**VAE** (variational autoencoder). Latent diffusion models work in its latent space.

- **An autoencoder knows the pictures it learnt from.** `builtin/photo-vae` learnt from 26 freely
  licensed photos: it rebuilds photos it never saw, losing the finest texture first.
  `builtin/shapes-vae` learnt only flat shapes on plain backgrounds: a photo comes back as blotches in
  false colours, since its latents have no way to say texture or shading. Compare them below.
- **Encoder.** It squeezes the image into a small grid of latents (the photo autoencoder: 4 times
  smaller each side, 12 channels; the shapes autoencoder: 64×64×3 → 16×16×4; Stable Diffusion's: 8 times
  smaller each side, 4 channels). For each latent number it outputs a distribution: a mean μ and a variance σ².
- **Reparameterisation.** In training a latent is drawn as z = μ + σ·ε with ε from N(0, 1), so the
  gradient flows through μ and σ despite the randomness. This tab decodes the mean μ: the same
  result every run.
- **Decoder.** It draws the image back from the latents. The **Error per pixel** map shows what was lost.
- **Latent noise** adds Gaussian noise to the latents before decoding, in units of their own standard
  deviation, drawn from the **Noise seed**: how well the decoder tolerates a nudge shows how smooth
  its latent space is.
- **Training loss** = reconstruction loss (how far the output is from the input) + a KL term (how
  far each latent distribution is from N(0, 1)). The KL keeps the latent space smooth and well
  scaled; a tiny KL weight (1e-6 for the built-in VAEs and for Stable Diffusion's) favours sharp
  reconstructions, since a diffusion model, not plain sampling, then produces the latents.
- **Compression ratio:** numbers in the image ÷ numbers in the latents (4× for the photo autoencoder,
  12× for 64×64×3 → 16×16×4, 48× for 8 times down). A count of values, not a file size: the latents are
  floats. Stable Diffusion's autoencoder keeps photos at 48× because it learnt from millions of them.
- **PSNR** = 10·log10(peak² / mean squared error), in dB: higher is better, +6 dB is half the error
  (as an RMS). **SSIM** compares local brightness, contrast and structure in small windows: 1 is
  identical. Both are in the **Metrics** box."""


def build_autoencoder(folder, spec, device):
    from diffusers import AutoencoderKL, AutoencoderTiny

    from ...models.loading import UnsafeModelError

    root = Path(folder) / spec.subfolder if spec.subfolder else Path(folder)
    config = json.loads((root / "config.json").read_text())
    classes = {"AutoencoderKL": AutoencoderKL, "AutoencoderTiny": AutoencoderTiny}
    cls = classes.get(config.get("_class_name"))
    if cls is None:
        raise UnsafeModelError(f"Autoencoder class {config.get('_class_name')!r} is not supported.")
    # Autoencoders are small: fp32 everywhere avoids the fp16 NaN problem at little cost.
    return cls.from_pretrained(folder, subfolder=spec.subfolder, use_safetensors=True).to(device).eval()


def reconstruction_snippet(metadata: dict) -> str:
    options = {"model": metadata.get("model")}
    if metadata.get("latent_noise"):
        options.update(latent_noise=metadata["latent_noise"], seed=metadata.get("seed", 0))
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import vae_reconstruction",
        "",
        "image = Image.open(\"input.png\")  # the same input image",
        recipes.call("vae_reconstruction", ["image"], options),
        "result.images[0].save(\"reconstruction.png\")",
        "print(result.metrics)",
    ])


def walk_snippet(metadata: dict) -> str:
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import vae_walk",
        "",
        "image_a = Image.open(\"a.png\")  # the same two images",
        "image_b = Image.open(\"b.png\")",
        recipes.call("vae_walk", ["image_a", "image_b"], {"model": metadata.get("model"),
                                                          "frames": metadata.get("frames")}),
        "with open(\"walk.gif\", \"wb\") as file:",
        "    file.write(result.gif)",
    ])


def build_tiny_vae(folder: Path) -> Path:
    """An AutoencoderKL with three blocks: 4× down, 4 latent channels, like the built-in one."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    AutoencoderKL(block_out_channels=(4, 8, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=2,
                  down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                  sample_size=32).save_pretrained(folder, safe_serialization=True)
    return folder


def tiny(folder: Path) -> ModelSpec:
    build_tiny_vae(folder)
    return tiny_spec(folder, "vae_reconstruction", "autoencoder", "Tiny random AutoencoderKL, 4× down (tests).")


FAMILY = Family(
    id="vae_reconstruction",
    title="VAE reconstruction",
    default_model="builtin/photo-vae",  # a learner's first move is to upload a photo
    default_env="GENART_VAE_MODEL",
    kinds=(Kind("autoencoder", build_autoencoder),),
    models=MODELS,
    capabilities={"train_pictures": f"{__name__}.train_pictures:train_pictures"},
    api={"vae_reconstruction": f"{__name__}.vae_reconstruction:vae_reconstruction",
         "vae_walk": f"{__name__}.vae_walk:vae_walk"},
    snippets={"vae_reconstruction": reconstruction_snippet, "vae_walk": walk_snippet},
    summary=("An autoencoder squeezes the image into a small grid of latent numbers and rebuilds it. "
             "Latent diffusion models work in that latent space; here you see what it keeps and what it loses. "
             "It rebuilds well only the kind of pictures it learnt from: **builtin/photo-vae** learnt from "
             "photos, **builtin/shapes-vae** only from flat shapes, and turns a photo into coloured blotches."),
    explanation=EXPLANATION,
    key_ideas=("Encoder", "μ", "σ", "Reparameterisation", "Decoder", "KL", "Compression ratio", "PSNR", "SSIM"),
    tab="genart_playground.ui.tab_vae_reconstruction",
    trainers={"vae": f"{__name__}.train_vae", "photo-vae": f"{__name__}.train_photo_vae"},
    tiny=tiny,
    bench=f"{__name__}.bench:vae_figures",
    example=Example(args=(IMAGE,), options={"latent_noise": 0.5, "seed": 2},
                    refused={"latent_noise": 5.0, "seed": "x"},
                    endpoint=(IMAGE, MODEL, 0.5, 2), seed_input=3, button="Encode and decode"),
)
