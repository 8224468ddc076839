"""What one named model is: its family, how it loads (its kind) and where its files are."""

from dataclasses import dataclass, field
from pathlib import Path

# Registry categories before families had ids of their own; still accepted where a family id is.
LEGACY_NAMES = {"text-to-image": "text_to_image", "vae": "vae_reconstruction", "gan": "gan_interpolation",
                "style": "style_transfer"}


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what users type and what metadata records
    family: str  # the id of the family whose functions run it (families/__init__.py)
    kind: str  # how it loads: one of the kinds some family declares
    source: str  # a Hub id, or a local folder
    subfolder: str | None = None
    defaults: dict = field(default_factory=dict)  # settings the model needs (steps, guidance, size, ...)
    description: str = ""
    requires: tuple[str, ...] = ()  # models this one is built on (a token transformer's VQ autoencoder, say)

    def __post_init__(self):
        object.__setattr__(self, "family", LEGACY_NAMES.get(self.family, self.family))

    @property
    def task(self) -> str:  # the older name of `family`
        return self.family

    @property
    def is_local(self) -> bool:
        return Path(self.source).is_absolute()

    @property
    def is_builtin(self) -> bool:
        return self.name.startswith("builtin/")
