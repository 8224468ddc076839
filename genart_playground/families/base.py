"""What a model family declares: the one place the rest of the package learns about it.

A family module builds one `Family`; `families/__init__.py` lists them. The registry, the loader,
the public API, the recipes, the app, the training CLI, the benches and the family contract tests
read that list instead of keeping tables of their own.

Family modules import no torch and no Gradio: functions that need either are named as
"module:attribute" strings and imported on first use, so `import genart_playground` stays light.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..models.spec import ModelSpec
from ..refs import resolve_ref

# What a kind of model can do, known from the registry before anything loads: a task or a tab asks
# `registry.can(spec, ability)` instead of comparing kind names.
ABILITIES = {
    "denoise": "a diffusion model: steps, a scheduler, guidance, noise from the seed; the denoising timeline",
    "write_tokens": "an autoregressive token model: temperature and top-k; the token timeline, the codebook",
    "w_space": "a StyleGAN: a mapping network to W, a style per layer (W walks, style mixing)",
    "sketch_to_picture": "a translator that turns a sketch into a picture",
    "picture_to_sketch": "a translator that turns a picture into a sketch",
    "match_text": "a model that scores how well a picture matches a text (CLIP)",
}


@dataclass(frozen=True)
class Kind:
    """One way of building a model from its files."""

    name: str
    build: str | Callable  # build(folder: Path, spec: ModelSpec, device) -> the model, on `device`
    config_file: str | None = "config.json"  # what from_pretrained starts from; None: built from `source` alone
    pipeline: bool = False  # a diffusers pipeline folder (model_index.json, component subfolders)
    # For a model that is not registered: does its config (the parsed `config_file`) say it is this kind?
    # None: only the family's first kind that reads files takes models nothing else recognises.
    recognises: Callable[[dict], bool] | None = None
    abilities: tuple[str, ...] = ()  # what its models can do (ABILITIES)

    def __post_init__(self):
        unknown = set(self.abilities) - set(ABILITIES)
        if unknown:
            raise ValueError(f"Kind {self.name!r}: unknown abilities {sorted(unknown)}; "
                             f"they are {', '.join(ABILITIES)}.")


# What a family's models can do, each capability with one signature for every family that has it. A task
# asks the family of a model for a capability instead of branching on the family's id (docs/architecture.md):
CAPABILITIES = {
    # pictures from seeds alone (a GAN; a conditional one names what each drew)
    "sample": "sample(spec, count, seed, progress) -> results.Samples",
    # pictures from prompts: `per_prompt` of each, prompt i's from seeds seed + i·per_prompt, ...
    "sample_prompts": "sample_prompts(spec, prompts, per_prompt, seed, progress) -> results.Samples",
    # a public server's bound on one prompt's pictures, from the settings alone, before any model work
    "check_sampling": "check_sampling(spec, per_prompt) -> None (raises ValueError)",
    # a model of the family trained from scratch on the shapes world by its own training script, into `out`:
    # every `every` steps a grid of samples from fixed seeds (samples_<step>.png) and the checker's figures
    # (a line of quality.jsonl: step, clean_fraction, train_combos_covered, ...); resumes from `resume`
    "train_pictures": "train_pictures(out, steps, seed, every, size, on_step, should_stop, resume) -> dict(folder, kind); "
                      ".sizes: the picture sizes it trains",
}

IMAGE = "<image>"  # in an Example: a picture the test supplies (a PIL image, or a file for the endpoint)
MODEL = "<model>"  # in an Example's endpoint inputs: the family's tiny model


@dataclass(frozen=True)
class Example:
    """One small call of the family's main function: what the family contract tests run it with."""

    args: tuple = ()  # positional arguments (IMAGE for a picture)
    options: dict = field(default_factory=dict)  # keyword options; the test adds model=<the tiny model>
    refused: dict = field(default_factory=dict)  # {option: value} changes that must be refused before any model loads
    endpoint: tuple = ()  # the tab's endpoint inputs, in order (IMAGE, MODEL filled in by the test)
    seed_input: int | None = None  # which endpoint input is a seed: a load test varies it (with the images)
    # The tab's button that runs its first example, in plain sight: the browser test clicks it. Empty: the tab
    # is driven by a browser test of its own (image translation's example fills a box in a closed accordion).
    button: str = ""


@dataclass(frozen=True)
class Tiny:
    """A tiny random model of one model family a Family holds (the DiT beside the UNet, StyleGAN beside the
    DCGAN): the family contract runs on each, with its own example call where the family's does not fit."""

    name: str
    build: str | Callable  # build(folder: Path) -> ModelSpec of a random tiny model saved there
    example: "Example | None" = None  # None: the family's example


@dataclass(frozen=True)
class Family:
    id: str  # the tab's id, the lesson links' `tab`, the models' category and the main function's name
    title: str  # the tab's label
    # The model used when none is named, unless `default_env` names another (settings.py reads it). A family
    # whose networks are built in the request (the training lab) has neither.
    default_model: str = ""
    default_env: str = ""
    kinds: tuple[Kind, ...] = ()  # the model kinds this family knows how to build
    models: tuple[ModelSpec, ...] = ()  # built-ins and registered Hub checkpoints
    api: dict[str, str] = field(default_factory=dict)  # public name -> "module:attribute" (functions, results)
    # Public functions with no endpoint of their own: they take what a page cannot send (a list of PIL
    # pictures) or another endpoint runs them (the lab's /evaluate is compare() over the models picked).
    python_only: tuple[str, ...] = ()
    snippets: dict[str, str | Callable] = field(default_factory=dict)  # a result's metadata["task"] -> its code
    summary: str = ""  # what the tab does, in a line or two under its title (ui/tab_page.py)
    explanation: str = ""  # the tab's "How it works" text, tied to the controls on screen
    key_ideas: tuple[str, ...] = ()  # what that text must teach, word for word (the explanations test checks)
    tab: str | Callable = ""  # the module whose build_tab(run=..., family=...) builds the tab (or that function)
    trainers: dict[str, str] = field(default_factory=dict)  # training CLI name -> its script's module
    tiny: str | Callable | None = None  # tiny(folder: Path) -> ModelSpec of a random tiny model saved there
    tinies: tuple[Tiny, ...] = ()  # tiny models of its other model families, each checked by the contract too
    bench: str | Callable | None = None  # bench(n, seed) prints the built-ins' quality figures (bench/quality.py)
    example: Example | None = None  # a small call of the main function (api[id]) with the tiny model
    capabilities: dict[str, str | Callable] = field(default_factory=dict)  # name (CAPABILITIES) -> function
    # a result's metadata["task"] -> plain library code for it, fn(metadata, spec) -> str | None
    plain_snippets: dict[str, str | Callable] = field(default_factory=dict)

    def __post_init__(self):
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"Family {self.id!r}: unknown capabilities {sorted(unknown)}; "
                             f"they are {', '.join(CAPABILITIES)}.")

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def capability(self, capability: str) -> Callable:
        """The family's function for a capability, imported now."""
        if capability not in self.capabilities:
            raise ValueError(f"{self.title} models cannot {capability}.")
        return resolve_ref(self.capabilities[capability])

    def run(self) -> dict[str, Callable]:
        """The functions the tab calls, by api name: what `build_tab(run=...)` is given in the app."""
        return {name: resolve_ref(ref) for name, ref in self.api.items()}

    def build_tab(self, run: dict[str, Callable] | None = None):
        build = self.tab if callable(self.tab) else resolve_ref(f"{self.tab}:build_tab")
        return build(run=run if run is not None else self.run(), family=self)

    def all_tinies(self) -> list[Tiny]:
        """Its tiny models, the main one first: one per model family it holds."""
        main = [Tiny(self.id, self.tiny, self.example)] if self.tiny is not None and self.example is not None else []
        return main + [Tiny(t.name, t.build, t.example or self.example) for t in self.tinies]

    def make_tiny(self, folder: Path) -> ModelSpec:
        if self.tiny is None:
            raise ValueError(f"Family {self.id!r} declares no tiny model.")
        return resolve_ref(self.tiny)(Path(folder))


def tiny_spec(folder: Path, family: str, kind: str, description: str, **defaults) -> ModelSpec:
    """The spec of a tiny random model saved in `folder` (a test's), named tests/<the folder's name>."""
    return ModelSpec(f"tests/{Path(folder).name}", family, kind, str(folder), defaults=defaults,
                     description=description)


def builtin(folder: str) -> str:
    """A model folder shipped inside the package, as an absolute path."""
    from .. import settings

    return str(settings.BUILTIN_DIR / folder)
