"""Text to image: latent diffusion from a prompt, any denoiser (UNet or transformer), with its
teaching views (the denoising timeline, the walk between two prompts or seeds)."""

import json
from pathlib import Path

from ... import recipes
from ...models.spec import ModelSpec
from ..base import MODEL, Example, Family, Kind, Tiny, builtin, tiny_spec

# Few-step distilled models were trained for their own schedule: 1-4 steps, no guidance,
# timesteps that start at the very end of the noise schedule ("trailing").
_TURBO = {"guidance": 0.0, "timestep_spacing": "trailing"}

MODELS = (
    ModelSpec("builtin/shapes-t2i", "text_to_image", "diffusers-pipeline", builtin("shapes-t2i"),
              # closed_vocabulary: its tokenizer knows the shapes world's 23 words (results warn about others)
              defaults={"steps": 20, "guidance": 4.0, "width": 64, "height": 64, "scheduler": "dpm++",
                        "closed_vocabulary": True},
              description="Built-in latent diffusion model trained on the shapes world (64×64)."),
    ModelSpec("builtin/shapes-dit", "text_to_image", "diffusers-pipeline", builtin("shapes-dit"),
              # pipeline_options: trained with one zero token where SD3 puts T5's features (it has no T5)
              defaults={"steps": 8, "guidance": 4.0, "width": 64, "height": 64, "scheduler": None,
                        "closed_vocabulary": True, "pipeline_options": {"max_sequence_length": 1}},
              description="Built-in diffusion transformer (SD3 layout) trained with rectified flow on the shapes "
                          "world (64×64, 8 Euler steps)."),
    ModelSpec("builtin/shapes-vqgpt", "text_to_image", "token-transformer", builtin("shapes-vqgpt"),
              defaults={"width": 64, "height": 64, "temperature": 1.0, "top_k": 16, "guidance": 3.0},
              description="Built-in autoregressive transformer (GPT-2) over VQ image tokens, trained on the shapes "
                          "world (64×64, 64 tokens)."),
    ModelSpec("stabilityai/stable-diffusion-3.5-medium", "text_to_image", "diffusers-pipeline",
              "stabilityai/stable-diffusion-3.5-medium",
              # Stability's recommended settings; its own FlowMatchEuler scheduler (shift 3)
              defaults={"steps": 40, "guidance": 4.5, "width": 1024, "height": 1024, "scheduler": None},
              description="SD 3.5 Medium: a 2.5B MM-DiT trained with rectified flow (1024×1024; gated on the Hub)."),
    ModelSpec("black-forest-labs/FLUX.1-schnell", "text_to_image", "diffusers-pipeline",
              "black-forest-labs/FLUX.1-schnell",
              # Distilled for 1-4 steps without classifier-free guidance; T5 reads up to 256 tokens
              defaults={"steps": 4, "guidance": 0.0, "width": 1024, "height": 1024, "scheduler": None,
                        "pipeline_options": {"max_sequence_length": 256}},
              description="FLUX.1 [schnell]: a 12B rectified-flow transformer distilled to 1-4 steps (1024×1024)."),
    ModelSpec("stable-diffusion-v1-5/stable-diffusion-v1-5", "text_to_image", "diffusers-pipeline",
              "stable-diffusion-v1-5/stable-diffusion-v1-5",
              defaults={"steps": 25, "guidance": 7.5, "width": 512, "height": 512, "scheduler": None},
              description="Stable Diffusion 1.5 (512×512): the base ControlNet scribble steers."),
    ModelSpec("stabilityai/sd-turbo", "text_to_image", "diffusers-pipeline", "stabilityai/sd-turbo",
              defaults={"steps": 1, "width": 512, "height": 512, "scheduler": "euler-ancestral", **_TURBO},
              description="SD 2.1 distilled to 1-4 steps (512×512)."),
    ModelSpec("stabilityai/sdxl-turbo", "text_to_image", "diffusers-pipeline", "stabilityai/sdxl-turbo",
              defaults={"steps": 1, "width": 512, "height": 512, "scheduler": "euler-ancestral", **_TURBO},
              description="SDXL distilled to 1-4 steps (512×512)."),
)

EXPLANATION = """\
**Diffusion.** In training, Gaussian noise of a random strength is added to pictures and a network
(a UNet) learns to predict the noise that was added (the built-in model predicts the equivalent
"v" target). Generating runs this backwards: start from pure noise and remove a little of it at
each of the **Steps**.

- **Latent space.** The noise is not in pixels but in the latents of an autoencoder (a VAE): the
  built-in model denoises a 16×16×4 grid for a 64×64 picture, Stable Diffusion 64×64×4 for 512×512.
  At the end the VAE's decoder turns the latents into the picture; **Width** and **Height** are its size.
- **Text conditioning.** A text encoder (CLIP) turns the **Prompt** into one vector per token.
  Inside the UNet, cross-attention layers let every image position look up the tokens it needs.
- **Classifier-free guidance** (**Guidance**, g). Each step predicts twice, with the prompt (cond)
  and with an empty prompt (uncond), and uses uncond + g·(cond − uncond): above 1 it pushes harder
  towards the prompt (a closer match, less variety; too high burns the colours). The
  **Negative prompt** takes the empty prompt's place, so the picture is pushed away from it. At
  g ≤ 1 only the prompt's prediction is used and the negative prompt is ignored.
- **Scheduler.** The numerical method that turns the predictions into steps from noise to picture.
  euler takes plain first-order steps; euler-ancestral adds fresh noise at each step (the picture
  keeps changing with the step count); dpm++ (DPM-Solver++) and unipc are higher-order multistep
  solvers, good in 15-25 steps; ddim is deterministic; -karras spaces the noise levels more finely
  near the end. "model default" is what the model shipped with (dpm++ for the built-in one).
- **Seed.** It picks the starting noise: same seed and settings, same picture. With several
  **Images**, image i uses seed + i.

**Token models** (`builtin/shapes-vqgpt`) have no steps: a transformer writes the picture's 64
codebook tokens one by one. **Temperature** divides its scores before each draw (below 1: safer and
more alike); **Top-k** keeps the k likeliest codes. *One prompt, three families* below explains the
diffusion transformer and the token model beside the UNet."""


def text_to_image_snippet(metadata: dict) -> str:
    settings = ["temperature", "top_k"] if "temperature" in metadata else ["steps"]  # a token model, or diffusion
    options = recipes.diffusion_options(metadata, ["negative_prompt", "num_images", *settings, "guidance", "width",
                                                   "height", "seed"])
    return "\n".join([
        "from genart_playground import text_to_image",
        "",
        recipes.call("text_to_image", [repr(metadata.get("prompt", ""))], options),
        "for i, image in enumerate(result.images):",
        "    image.save(f\"image_{i}.png\")  # image i is seed + i",
    ])


def timeline_snippet(metadata: dict) -> str:
    options = recipes.diffusion_options(metadata, ["negative_prompt", "steps", "guidance", "width", "height", "seed"])
    return "\n".join([
        "from genart_playground import denoising_timeline",
        "",
        recipes.call("denoising_timeline", [repr(metadata.get("prompt", ""))], options),
        "for step, (noisy, clean) in enumerate(zip(result.noisy, result.predicted)):",
        "    noisy.save(f\"step_{step:02d}_noisy.png\")",
        "    clean.save(f\"step_{step:02d}_predicted.png\")",
        "with open(\"timeline.gif\", \"wb\") as file:",
        "    file.write(result.gif)",
    ])


def walk_snippet(metadata: dict) -> str:
    options = recipes.diffusion_options(metadata, ["seed_a", "seed_b", "frames", "negative_prompt", "steps",
                                                   "guidance", "width", "height"])
    return "\n".join([
        "from genart_playground import diffusion_walk",
        "",
        recipes.call("diffusion_walk", [repr(metadata.get("prompt_a", "")), repr(metadata.get("prompt_b"))],
                     options),
        "with open(\"walk.mp4\", \"wb\") as file:",
        "    file.write(result.mp4)",
    ])


def token_timeline_snippet(metadata: dict) -> str:
    options = recipes.diffusion_options(metadata, ["negative_prompt", "guidance", "temperature", "top_k", "seed"])
    return "\n".join([
        "from genart_playground import token_timeline",
        "",
        recipes.call("token_timeline", [repr(metadata.get("prompt", ""))], options),
        "for i, frame in enumerate(result.frames):  # frame i: the picture after i tokens",
        "    frame.save(f\"tokens_{i:02d}.png\")",
        "print(result.codes)  # the codebook index of each token, row by row",
    ])


def codebook_snippet(metadata: dict) -> str:
    swap = {k: metadata.get(k) for k in ("row", "column", "code") if metadata.get(k) is not None}
    return "\n".join([
        "from PIL import Image",
        "from genart_playground import codebook_explorer",
        "",
        "picture = Image.open(\"picture.png\")  # the picture you explored",
        recipes.call("codebook_explorer", ["picture"], {"model": metadata.get("model"), **swap}),
        "print(result.codes, result.metrics)",
        "result.images[-1].save(\"decoded.png\")",
        "result.atlas.save(\"codebook.png\")",
    ])


def comparison_snippet(metadata: dict) -> str:
    return "\n".join([
        "from genart_playground import compare_families",
        "",
        recipes.call("compare_families", [repr(metadata.get("prompt", ""))],
                     {"seed": metadata.get("seed", 0), "models": metadata.get("models")}),
        "for row, image in zip(result.rows, result.images):",
        "    print(row)",
        "    image.save(row[\"model\"].replace(\"/\", \"_\") + \".png\")",
    ])


def sweep_snippet(metadata: dict) -> str:
    options = {k: metadata[k] for k in ("models", "steps", "prompts", "seed") if k in metadata}
    return "\n".join([
        "from genart_playground import steps_sweep",
        "",
        recipes.call("steps_sweep", [], options),
        "for row in result.rows:",
        "    print(row[\"model\"], row[\"steps\"], row[\"quality\"])",
    ])


def write_clip_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """A byte-level BPE vocabulary of single printable characters, a few merges, and CLIP's specials."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1)]  # CLIP's byte-to-unicode map is the identity here
    merges = ["r e", "re d</w>", "c i", "ci r", "cir c", "circ l", "circl e</w>"]
    vocab = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars),
             *("".join(m.split()) for m in merges)]
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(vocab)}))
    merges_file.write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return vocab_file, merges_file


def build_tiny_pipeline(folder: Path, *, instruct: bool = False) -> Path:
    """A StableDiffusionPipeline with a few hundred parameters per block: 32×32 images in milliseconds.
    `instruct`: InstructPix2Pix's layout instead (its UNet also reads the input picture's latents)."""
    import torch
    from diffusers import (AutoencoderKL, DDIMScheduler, StableDiffusionInstructPix2PixPipeline,
                           StableDiffusionPipeline, UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab_file, merges_file = write_clip_tokenizer_files(folder.parent / f"{folder.name}-tokenizer-files")
    tokenizer = CLIPTokenizer(vocab=str(vocab_file), merges=str(merges_file), model_max_length=77)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=16, in_channels=8 if instruct else 4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8, norm_num_groups=2, attention_head_dim=2)
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(4, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=2,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8, intermediate_size=16, projection_dim=8,
        num_attention_heads=2, num_hidden_layers=2, vocab_size=len(tokenizer), max_position_embeddings=77,
        layer_norm_eps=1e-5))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipeline_class = StableDiffusionInstructPix2PixPipeline if instruct else StableDiffusionPipeline
    pipe = pipeline_class(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   image_encoder=None, requires_safety_checker=False)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_sd3(folder: Path) -> Path:
    """A StableDiffusion3Pipeline: an SD3Transformer2DModel (a diffusion transformer over 1×1 latent
    patches), two small CLIP text encoders, no T5 (`text_encoder_3=None`), rectified flow."""
    import torch
    from diffusers import (AutoencoderKL, FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel,
                           StableDiffusion3Pipeline)
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    vocab_file, merges_file = write_clip_tokenizer_files(folder.parent / f"{folder.name}-tokenizer-files")
    tokenizers = [CLIPTokenizer(vocab=str(vocab_file), merges=str(merges_file), model_max_length=77)
                  for _ in range(2)]
    encoders = []
    for _ in range(2):
        torch.manual_seed(0)
        encoders.append(CLIPTextModelWithProjection(CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8, intermediate_size=16, projection_dim=8,
            num_attention_heads=2, num_hidden_layers=2, vocab_size=len(tokenizers[0]), max_position_embeddings=77,
            layer_norm_eps=1e-5)))
    torch.manual_seed(0)
    transformer = SD3Transformer2DModel(sample_size=16, patch_size=1, in_channels=4, out_channels=4, num_layers=1,
                                        attention_head_dim=8, num_attention_heads=2, joint_attention_dim=16,
                                        caption_projection_dim=16, pooled_projection_dim=16)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(4, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=2,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        sample_size=32, shift_factor=0.0609, scaling_factor=1.5035)
    pipe = StableDiffusion3Pipeline(transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                                    text_encoder=encoders[0], tokenizer=tokenizers[0], text_encoder_2=encoders[1],
                                    tokenizer_2=tokenizers[1], text_encoder_3=None, tokenizer_3=None)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_token_model(folder: Path) -> Path:
    """A token model (token_transformer.py): a VQModel with a 16-code codebook over an 8×8 grid
    of a 64×64 picture, and a one-layer GPT-2 of width 16; the caption tokenizer reads 8 tokens."""
    import torch
    from diffusers import VQModel
    from transformers import CLIPTokenizer

    from .token_transformer import Layout, TokenModel, build_transformer

    vocab_file, merges_file = write_clip_tokenizer_files(folder.parent / f"{folder.name}-tokenizer-files")
    tokenizer = CLIPTokenizer(vocab=str(vocab_file), merges=str(merges_file), model_max_length=8)
    layout = Layout(text_vocab=len(tokenizer), text_length=8, codebook=16, grid=8, image_size=64)
    torch.manual_seed(0)
    vqvae = VQModel(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
                    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(4, 4, 8, 8), layers_per_block=1,
                    latent_channels=8, num_vq_embeddings=16, vq_embed_dim=4, norm_num_groups=2, sample_size=64)
    torch.manual_seed(0)
    transformer = build_transformer(layout, width=16, layers=1, heads=2)
    with torch.no_grad():  # a random start draws near-uniform tokens; wider weights make seeds and prompts differ
        transformer.lm_head.weight.normal_(0.0, 0.5)
    TokenModel(vqvae.eval(), transformer.eval(), tokenizer, layout).save_pretrained(folder)
    return folder


def tiny(folder: Path) -> ModelSpec:
    """A StableDiffusionPipeline with a few hundred parameters per block: 32×32 images in milliseconds."""
    build_tiny_pipeline(folder)
    return tiny_spec(folder, "text_to_image", "diffusers-pipeline", "Tiny random SD pipeline (tests).",
                     steps=2, guidance=3.0, width=32, height=32, scheduler=None)


def tiny_dit(folder: Path) -> ModelSpec:
    """A diffusion transformer (SD3's layout) sampled with rectified flow, 32×32."""
    build_tiny_sd3(folder)
    return tiny_spec(folder, "text_to_image", "diffusers-pipeline", "Tiny random SD3 pipeline (tests).",
                     steps=2, guidance=3.0, width=32, height=32, scheduler=None)


def tiny_token_model(folder: Path) -> ModelSpec:
    """A token model: a VQ autoencoder over an 8×8 grid and a one-layer GPT-2, 64×64."""
    build_tiny_token_model(folder)
    return tiny_spec(folder, "text_to_image", "token-transformer", "Tiny random token model (tests).",
                     width=64, height=64, temperature=1.0, top_k=8, guidance=2.0)


FAMILY = Family(
    id="text_to_image",
    title="Text to image",
    default_model="builtin/shapes-t2i",
    default_env="GENART_T2I_MODEL",
    kinds=(Kind("diffusers-pipeline", "genart_playground.diffusion:build_pipeline", config_file="model_index.json",
                pipeline=True, abilities=("denoise",)),
           Kind("token-transformer", f"{__name__}.autoregressive:build", config_file="vqgpt.json",
                abilities=("write_tokens",))),
    models=MODELS,
    api={"text_to_image": f"{__name__}.text_to_image:text_to_image",
         "denoising_timeline": f"{__name__}.denoising_timeline:denoising_timeline",
         "diffusion_walk": f"{__name__}.diffusion_walk:diffusion_walk",
         "token_timeline": f"{__name__}.token_timeline:token_timeline",
         "codebook_explorer": f"{__name__}.codebook_explorer:codebook_explorer",
         "compare_families": f"{__name__}.family_comparison:compare_families",
         "steps_sweep": f"{__name__}.family_comparison:steps_sweep"},
    snippets={"text_to_image": text_to_image_snippet, "denoising_timeline": timeline_snippet,
              "diffusion_walk": walk_snippet, "token_timeline": token_timeline_snippet,
              "codebook_explorer": codebook_snippet, "compare_families": comparison_snippet,
              "steps_sweep": sweep_snippet},
    summary="Type a prompt and a diffusion model denoises random latents into an image that matches it.",
    explanation=EXPLANATION,
    key_ideas=("noise", "latent", "VAE", "cross-attention", "guidance", "uncond + g·(cond − uncond)",
               "Negative prompt", "Scheduler", "Seed"),
    tab="genart_playground.ui.tab_text_to_image",
    trainers={"t2i": f"{__name__}.train_t2i", "dit": f"{__name__}.train_dit",
              "vqgpt": f"{__name__}.train_vqgpt"},
    tiny=tiny,
    bench=f"{__name__}.bench:t2i_figures",
    plain_snippets={"text_to_image": "genart_playground.recipes:pipeline_snippet"},
    capabilities={"sample_prompts": f"{__name__}.text_to_image:sample_prompts",
                  "check_sampling": f"{__name__}.text_to_image:check_sampling",
                  "train_pictures": f"{__name__}.train_pictures:train_pictures"},
    tinies=(Tiny("dit", tiny_dit),
            # A token model has no steps or scheduler: its settings are the sampler's.
            Tiny("token_model", tiny_token_model,
                 Example(args=("a red circle on the left",), options={"seed": 3, "num_images": 2, "temperature": 0.8},
                         refused={"temperature": 100.0, "top_k": 0, "steps": 4, "scheduler": "ddim", "width": 128,
                                  "seed": -1},
                         endpoint=("a red circle", "", MODEL, "model default", 1, 0, 2.0, None, None, 3),
                         seed_input=9))),
    example=Example(args=("a red circle on the left",), options={"seed": 3, "steps": 2, "num_images": 2},
                    refused={"steps": 10_000, "width": 100, "num_images": 0, "seed": -1, "guidance": float("nan"),
                             "scheduler": "warp-drive", "negative_prompt": "x" * 100_000},
                    endpoint=("a red circle", "", MODEL, "model default", 1, 2, 3.0, None, None, 3), seed_input=9,
                    button="Generate"),
)
