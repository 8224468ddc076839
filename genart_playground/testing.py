"""Tiny random models, built the way diffusers' own tests build theirs (a few channels, two blocks, a
seed before each) and saved with `save_pretrained` as safetensors, so they load through exactly the
code real models use. The test suite uses them; nothing here downloads anything. A family's own tiny
model is built in its declaration (`Family.tiny`); the builders it uses are imported here for the tests
that want them directly. Production code never imports this module.
"""

from pathlib import Path

from .families.gan_interpolation import build_tiny_gan, build_tiny_stylegan
from .families.text_to_image import (build_tiny_pipeline, build_tiny_sd3, build_tiny_token_model,
                                     write_clip_tokenizer_files)
from .families.translate_image import build_tiny_translator
from .families.vae_reconstruction import build_tiny_vae

__all__ = ["build_tiny_gan", "build_tiny_pipeline", "build_tiny_sd3", "build_tiny_stylegan", "build_tiny_token_model",
           "build_tiny_translator", "build_tiny_vae", "write_clip_tokenizer_files"]  # and the builders below


def build_tiny_controlnet(folder: Path) -> Path:
    """A ControlNetModel for build_tiny_pipeline's UNet: its control picture is embedded 2× down, as that
    pipeline's autoencoder makes its latents."""
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(0)
    ControlNetModel(block_out_channels=(4, 8), layers_per_block=1, in_channels=4, cross_attention_dim=8,
                    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), norm_num_groups=2, attention_head_dim=2,
                    conditioning_embedding_out_channels=(4, 8)).save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_clip(folder: Path) -> Path:
    """A CLIPModel with 8-number embeddings and 32×32 pictures, and a tokenizer: CLIP score and CLIP features."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    vocab_file, merges_file = write_clip_tokenizer_files(folder.parent / f"{folder.name}-tokenizer-files")
    tokenizer = CLIPTokenizer(vocab=str(vocab_file), merges=str(merges_file), model_max_length=77)
    torch.manual_seed(0)
    layers = dict(hidden_size=8, intermediate_size=16, num_attention_heads=2, num_hidden_layers=1)
    model = CLIPModel(CLIPConfig(
        text_config=dict(**layers, vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=0,
                         eos_token_id=1, pad_token_id=1),
        vision_config=dict(**layers, image_size=32, patch_size=8), projection_dim=8))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_taesd(folder: Path) -> Path:
    """An AutoencoderTiny (TAESD's architecture) with 8 channels per block."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(0)
    AutoencoderTiny(encoder_block_out_channels=(8, 8), decoder_block_out_channels=(8, 8),
                    num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1), latent_channels=4,
                    upsampling_scaling_factor=2).save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_flux(folder: Path) -> Path:
    """A FluxPipeline (FLUX.1-schnell's layout): a FluxTransformer2DModel with one double and one single
    block, a CLIP and a T5 text encoder with their tokenizers (a word-level T5 vocabulary built here), a
    16-channel autoencoder, rectified flow, no guidance embedding (schnell is distilled for guidance 0)."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, T5Config, T5EncoderModel, T5TokenizerFast

    vocab_file, merges_file = write_clip_tokenizer_files(folder.parent / f"{folder.name}-tokenizer-files")
    tokenizer = CLIPTokenizer(vocab=str(vocab_file), merges=str(merges_file), model_max_length=77)
    words = "a red blue circle square on the left right".split()
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -3.0), *((f"▁{w}", -1.0) for w in words),
              *((c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz")]
    tokenizer_2 = T5TokenizerFast(vocab=pieces, extra_ids=0)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=8, intermediate_size=16, projection_dim=8,
        num_attention_heads=2, num_hidden_layers=1, vocab_size=len(tokenizer), max_position_embeddings=77))
    torch.manual_seed(0)
    text_encoder_2 = T5EncoderModel(T5Config(vocab_size=len(tokenizer_2), d_model=16, d_kv=8, d_ff=32, num_layers=1,
                                             num_heads=2, decoder_start_token_id=0))
    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(patch_size=1, in_channels=16, num_layers=1, num_single_layers=1,
                                         attention_head_dim=8, num_attention_heads=2, joint_attention_dim=16,
                                         pooled_projection_dim=8, guidance_embeds=False, axes_dims_rope=(2, 2, 4))
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(4, 8), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=2,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        sample_size=32, shift_factor=0.1159, scaling_factor=0.3611)
    scheduler = FlowMatchEulerDiscreteScheduler(shift=1.0, use_dynamic_shifting=False)
    pipe = FluxPipeline(transformer=transformer, scheduler=scheduler, vae=vae, text_encoder=text_encoder,
                        tokenizer=tokenizer, text_encoder_2=text_encoder_2, tokenizer_2=tokenizer_2)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder

