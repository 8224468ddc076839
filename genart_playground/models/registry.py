"""Named models per task, and where each one's weights come from.

A model is either a folder shipped inside the package (the built-ins, `builtin/...`) or a Hub id.
Both load through the same code (`models/loading.py`); this file only says what exists.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import settings

TASKS = ("text-to-image", "vae", "gan", "style")

# kind -> how `models/loading.py` builds it
KINDS = ("diffusers-pipeline", "autoencoder", "gan-generator", "vgg19", "random-filters")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what users type and what metadata records
    task: str
    kind: str
    source: str  # a Hub id, or a local folder
    subfolder: str | None = None
    defaults: dict = field(default_factory=dict)  # settings the model needs (steps, guidance, size, ...)
    description: str = ""

    @property
    def is_local(self) -> bool:
        return Path(self.source).is_absolute()

    @property
    def is_builtin(self) -> bool:
        return self.name.startswith("builtin/")


def _builtin(folder: str) -> str:
    return str(settings.BUILTIN_DIR / folder)


# Few-step distilled models were trained for their own schedule: 1-4 steps, no guidance,
# timesteps that start at the very end of the noise schedule ("trailing").
_TURBO = {"guidance": 0.0, "timestep_spacing": "trailing"}

_REGISTRY: dict[str, ModelSpec] = {}


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")


def register(spec: ModelSpec) -> ModelSpec:
    if spec.task not in TASKS:
        raise ValueError(f"Unknown task {spec.task!r}; tasks are {', '.join(TASKS)}.")
    if spec.kind not in KINDS:
        raise ValueError(f"Unknown kind {spec.kind!r}; kinds are {', '.join(KINDS)}.")
    # Checked here, not at load: a URL or a path-like id must never reach huggingface_hub.
    if spec.kind != "random-filters" and not spec.is_local and (not _HUB_ID.match(spec.source) or ".." in spec.source):
        raise ValueError(f"Model {spec.name!r}: source {spec.source!r} is neither a folder nor a Hub id (owner/name); "
                         "a URL is refused.")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


for _spec in [
    ModelSpec("builtin/shapes-t2i", "text-to-image", "diffusers-pipeline", _builtin("shapes-t2i"),
              defaults={"steps": 20, "guidance": 4.0, "width": 64, "height": 64, "scheduler": "dpm++"},
              description="Built-in latent diffusion model trained on the shapes world (64×64)."),
    ModelSpec("stabilityai/sd-turbo", "text-to-image", "diffusers-pipeline", "stabilityai/sd-turbo",
              defaults={"steps": 1, "width": 512, "height": 512, "scheduler": "euler-ancestral", **_TURBO},
              description="SD 2.1 distilled to 1-4 steps (512×512)."),
    ModelSpec("stabilityai/sdxl-turbo", "text-to-image", "diffusers-pipeline", "stabilityai/sdxl-turbo",
              defaults={"steps": 1, "width": 512, "height": 512, "scheduler": "euler-ancestral", **_TURBO},
              description="SDXL distilled to 1-4 steps (512×512)."),
    ModelSpec("builtin/shapes-vae", "vae", "autoencoder", _builtin("shapes-t2i"), subfolder="vae",
              description="The built-in text-to-image model's AutoencoderKL (4× down, 4 channels)."),
    ModelSpec("madebyollin/taesd", "vae", "autoencoder", "madebyollin/taesd",
              description="Tiny autoencoder for Stable Diffusion latents (8× down)."),
    ModelSpec("stabilityai/sd-vae-ft-mse", "vae", "autoencoder", "stabilityai/sd-vae-ft-mse",
              description="Stable Diffusion 1.x autoencoder fine-tuned for sharper reconstructions (8× down)."),
    ModelSpec("builtin/shapes-gan", "gan", "gan-generator", _builtin("shapes-gan"),
              description="Built-in DCGAN generator trained on the shapes world (64×64)."),
    ModelSpec("builtin/random-filters", "style", "random-filters", "seed:0",
              defaults={"size": 128, "steps": 100},
              description="A fixed-seed bank of random multi-scale filters: needs no download."),
    ModelSpec("timm/vgg19.tv_in1k", "style", "vgg19", "timm/vgg19.tv_in1k",
              defaults={"size": 256, "steps": 150},
              description="VGG19 trained on ImageNet: the features of Gatys et al."),
]:
    register(_spec)


def _check_unregistered(name: str) -> None:
    if "://" in name or name.startswith(("hf:", "www.")):
        raise ValueError(f"Model {name!r} looks like a URL; give a Hub id (owner/name) or a registered name.")
    if not settings.ALLOW_ANY_MODEL:
        raise ValueError(f"Model {name!r} is not in the registry; set GENART_ALLOW_ANY_MODEL=1 to allow others.")
    path = Path(name).expanduser()
    if path.is_absolute() or name.startswith("."):
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in settings.MODEL_ROOTS):
            raise ValueError(f"Model folder {name!r} is outside the allowed roots (GENART_MODEL_ROOTS).")
        return
    if not _HUB_ID.match(name) or ".." in name:
        raise ValueError(f"Model {name!r} is not a Hub id of the form owner/name.")


_DEFAULT_KIND = {"text-to-image": "diffusers-pipeline", "vae": "autoencoder", "gan": "gan-generator",
                 "style": "vgg19"}


def resolve(task: str, name: str | None = None) -> ModelSpec:
    """The spec for `name` (None: the task's configured default)."""
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; tasks are {', '.join(TASKS)}.")
    name = name or settings.DEFAULT_MODELS[task]
    if not isinstance(name, str):
        raise ValueError(f"`model` must be a model name, got {type(name).__name__}.")
    spec = _REGISTRY.get(name)
    if spec is None:
        _check_unregistered(name)
        source = str(Path(name).expanduser().resolve()) if Path(name).expanduser().is_absolute() else name
        spec = ModelSpec(name, task, _DEFAULT_KIND[task], source)
    if spec.task != task:
        raise ValueError(f"Model {name!r} is a {spec.task} model, not a {task} model.")
    return spec


def models_for(task: str) -> list[ModelSpec]:
    return [spec for spec in _REGISTRY.values() if spec.task == task]
