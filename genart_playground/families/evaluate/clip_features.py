"""A CLIP model (Radford et al., 2021) as the evaluation lab uses it: image features for FID and KID in a
standard network's space, and CLIP score for agreement with a prompt.

CLIP score (Hessel et al., 2021) is 100 × the cosine between the picture's and the prompt's
embeddings, floored at 0 (torchmetrics' definition); FID in CLIP's features is Kynkäänniemi et al.'s
(2023) remedy for Inception features that see ImageNet classes more than the picture.
"""

import torch
from torch import nn

# The pixel statistics CLIP was trained with (its processor's image_mean / image_std).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class ClipFeatures(nn.Module):
    def __init__(self, model, tokenizer):
        super().__init__()
        self.model, self.tokenizer = model, tokenizer
        self.image_size = model.config.vision_config.image_size  # distribution.features resizes to this
        self.num_features = model.config.projection_dim
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_pretrained(cls, folder) -> "ClipFeatures":
        from transformers import CLIPModel, CLIPTokenizer

        return cls(CLIPModel.from_pretrained(folder, use_safetensors=True), CLIPTokenizer.from_pretrained(folder))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) pictures in [-1, 1] at `image_size` -> (N, projection_dim) unit image embeddings."""
        pixels = ((images + 1) / 2 - self.mean) / self.std
        embedding = self.model.get_image_features(pixel_values=pixels).pooler_output
        return embedding / embedding.norm(dim=-1, keepdim=True)

    def embed_text(self, prompts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt").to(self.mean.device)
        embedding = self.model.get_text_features(input_ids=tokens.input_ids,
                                                 attention_mask=tokens.attention_mask).pooler_output
        return embedding / embedding.norm(dim=-1, keepdim=True)

    def score(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Each picture's CLIP score against its own prompt: 100 · max(cos, 0)."""
        return 100 * (self(images) * self.embed_text(prompts)).sum(dim=-1).clamp_min(0)
