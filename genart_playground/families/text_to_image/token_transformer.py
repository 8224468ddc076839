"""Text to image as next-token prediction (the DALL-E / Parti recipe): a VQ autoencoder turns a picture
into a grid of codebook indices, and a decoder-only transformer reads the caption's tokens and then
writes the picture's tokens one by one, in raster order.

A model folder holds three standard parts, each loaded with `from_pretrained`, and one file that
says how they fit together:

    vqgpt.json     the grid size, the codebook size, where image tokens start in the vocabulary
    vqvae/         diffusers VQModel: 64×64 picture <-> 8×8 grid of codebook indices
    transformer/   transformers GPT2LMHeadModel over [caption tokens][image start][image tokens]
    tokenizer/     the caption tokenizer (CLIPTokenizer, as the diffusion models use)

The transformer's vocabulary is the caption tokens, then one id per codebook entry, then the
image-start token. Captions are always padded to the tokenizer's full length, in training and in
sampling, so no attention mask is needed.
"""

import copy
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from diffusers import VQModel
from transformers import CLIPTokenizer, GPT2Config, GPT2LMHeadModel

CONFIG_NAME = "vqgpt.json"


@dataclass(frozen=True)
class Layout:
    """Where everything sits in the transformer's sequence and vocabulary."""

    text_vocab: int  # caption token ids are 0 .. text_vocab - 1
    text_length: int  # every caption is padded to this many tokens
    codebook: int  # image token of code k is text_vocab + k
    grid: int  # the picture is grid × grid tokens
    image_size: int  # pixels per side of the pictures the autoencoder reads and writes

    @property
    def image_start(self) -> int:
        return self.text_vocab + self.codebook

    @property
    def vocab_size(self) -> int:
        return self.text_vocab + self.codebook + 1

    @property
    def image_tokens(self) -> int:
        return self.grid * self.grid

    @property
    def length(self) -> int:
        return self.text_length + 1 + self.image_tokens


def build_vqvae(codebook: int, channels: int = 16, code_dim: int = 8, attention: bool = False) -> VQModel:
    """64×64×3 <-> 8×8 codes: three halvings, widths (c, 2c, 4c, 4c), narrow where the pixels are many
    (full-resolution layers cost the most on a CPU); low-dimensional codes are used more evenly.
    No attention in the middle by default: a token should describe its own patch, not the whole
    picture, or a plain background patch gets a different code for every picture it sits in."""
    c = channels
    return VQModel(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
                   up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(c, 2 * c, 4 * c, 4 * c),
                   layers_per_block=1, latent_channels=4 * c, num_vq_embeddings=codebook, vq_embed_dim=code_dim,
                   norm_num_groups=16, sample_size=64, mid_block_add_attention=attention)


def build_transformer(layout: Layout, width: int = 128, layers: int = 6, heads: int = 4) -> GPT2LMHeadModel:
    return GPT2LMHeadModel(GPT2Config(vocab_size=layout.vocab_size, n_positions=layout.length, n_embd=width,
                                      n_layer=layers, n_head=heads, bos_token_id=layout.image_start,
                                      eos_token_id=layout.image_start, tie_word_embeddings=True))


class TokenModel(torch.nn.Module):
    """The VQ autoencoder, the transformer and the tokenizer, with what the views need: caption ids,
    picture <-> token grid, and the logits of the next image token."""

    def __init__(self, vqvae: VQModel, transformer: GPT2LMHeadModel, tokenizer: CLIPTokenizer, layout: Layout):
        super().__init__()
        self.vqvae, self.transformer, self.tokenizer, self.layout = vqvae, transformer, tokenizer, layout

    @classmethod
    def from_pretrained(cls, folder: str | Path, **kwargs) -> "TokenModel":
        folder = Path(folder)
        layout = Layout(**json.loads((folder / CONFIG_NAME).read_text()))
        vqvae = VQModel.from_pretrained(folder / "vqvae", use_safetensors=True, **kwargs)
        # The transformer may be stored in half precision (the built-in is, to fit the weights budget);
        # it computes in float32 unless asked otherwise, as CPUs are slow at float16.
        transformer = GPT2LMHeadModel.from_pretrained(folder / "transformer", use_safetensors=True,
                                                      **{"dtype": torch.float32, **kwargs})
        tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
        return cls(vqvae.eval(), transformer.eval(), tokenizer, layout)

    def save_pretrained(self, folder: str | Path, *, transformer_dtype: torch.dtype | None = None) -> None:
        """`transformer_dtype=torch.float16` stores the transformer at half the size; it loads as float32."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.vqvae.save_pretrained(folder / "vqvae", safe_serialization=True)
        transformer = self.transformer
        if transformer_dtype is not None:  # a copy: the model in use keeps computing in its own dtype
            transformer = copy.deepcopy(transformer).to(transformer_dtype)
        transformer.save_pretrained(folder / "transformer", safe_serialization=True)
        self.tokenizer.save_pretrained(folder / "tokenizer")
        (folder / CONFIG_NAME).write_text(json.dumps(asdict(self.layout), indent=1))

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def caption_ids(self, texts: list[str]) -> torch.Tensor:
        """Caption token ids, padded to the full length, then the image-start token: the prefix."""
        ids = self.tokenizer(texts, padding="max_length", max_length=self.layout.text_length, truncation=True,
                             return_tensors="pt").input_ids
        start = torch.full((len(texts), 1), self.layout.image_start)
        return torch.cat([ids, start], dim=1).to(self.device)

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Pictures in [-1, 1] (B, 3, H, W) -> codebook indices (B, grid, grid)."""
        latents = self.vqvae.encode(images.to(self.device, self.dtype)).latents
        _, _, (_, _, indices) = self.vqvae.quantize(latents)
        return indices.view(latents.shape[0], latents.shape[2], latents.shape[3])

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codebook indices (B, grid, grid) -> pictures in [-1, 1]."""
        b, h, w = codes.shape
        quantized = self.vqvae.quantize.get_codebook_entry(codes.reshape(-1).to(self.device),
                                                           (b, h, w, self.vqvae.config.vq_embed_dim))
        return self.vqvae.decode(quantized, force_not_quantize=True).sample.clamp(-1, 1)

    def next_logits(self, ids: torch.Tensor, cache=None):
        """Logits over the codebook for the token after `ids` (only image codes can come next)."""
        out = self.transformer(input_ids=ids, cache=cache, use_cache=True)
        start = self.layout.text_vocab
        return out.logits[:, -1, start:start + self.layout.codebook].float(), out.cache


@torch.no_grad()
def sample(model: TokenModel, prompts: list[str], *, negative: str = "", generators: list[torch.Generator],
           temperature: float = 1.0, top_k: int | None = None, guidance: float = 1.0, on_token=None) -> torch.Tensor:
    """Write the pictures' tokens one by one: (B, grid, grid) codebook indices.

    With guidance above 1 every step also runs the `negative` caption (the empty one by default:
    the model trained on 10 % empty captions) and uses uncond + g·(cond − uncond) on the logits.
    Token i of image b is drawn with generators[b]: each picture depends only on its own seed.
    `on_token(i, codes)` runs after token i with the (B, i + 1) codes written so far."""
    n, guided = len(prompts), guidance > 1
    ids = model.caption_ids(list(prompts) + ([negative] * n if guided else []))
    codes = torch.empty(n, 0, dtype=torch.long)
    logits, cache = model.next_logits(ids)
    for i in range(model.layout.image_tokens):
        if guided:
            cond, uncond = logits[:n], logits[n:]
            logits = uncond + guidance * (cond - uncond)
        logits = logits / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = logits.topk(top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = logits.softmax(dim=-1).cpu()
        if not torch.isfinite(probs).all():  # broken weights or overflow: no token can be drawn from that
            raise FloatingPointError("the next token's probabilities hold NaN or infinity")
        token = torch.stack([torch.multinomial(probs[b], 1, generator=generators[b]) for b in range(n)])
        codes = torch.cat([codes, token], dim=1)
        if on_token is not None:
            on_token(i, codes)
        if i + 1 < model.layout.image_tokens:
            step = (token + model.layout.text_vocab).to(model.device)
            logits, cache = model.next_logits(torch.cat([step, step]) if guided else step, cache)
    return codes.view(n, model.layout.grid, model.layout.grid)
