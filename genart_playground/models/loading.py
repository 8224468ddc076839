"""The one loading path: a spec becomes a local folder, the folder is checked, then `from_pretrained`.

Safety: weights load from safetensors only, nothing is unpickled, no remote code runs. A folder
is checked before any library sees it, so a pickle in it is never opened.
"""

import functools
import importlib.util
import json
import socket
import threading
from pathlib import Path

from huggingface_hub import constants, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from .. import console
from ..refs import resolve_ref
from . import registry
from .spec import ModelSpec

# Libraries a pipeline's model_index.json may name. Anything else would mean importing code
# that ships with the model.
_TRUSTED_LIBRARIES = {"diffusers", "transformers"}

# Only what from_pretrained reads: configs, tokenizer files and safetensors weights in
# component folders. Root-level single-file checkpoints (several GB) and pickles are skipped.
_ALLOW_PATTERNS = ["*.json", "*/*.txt", "*/*.safetensors", "*.safetensors", "*/*.model"]
_PIPELINE_PATTERNS = ["*.json", "*/*.txt", "*/*.safetensors", "*/*.model"]


class ModelUnavailableError(RuntimeError):
    """The model's weights are not here and cannot be fetched now."""


class UnsafeModelError(ValueError):
    """The model folder asks for something the playground refuses to run."""


def fetch_command(spec: ModelSpec) -> str:
    return f"hf download {spec.source}"


def _kind(spec: ModelSpec):
    return registry.kinds()[spec.kind]


def local_folder(spec: ModelSpec, *, progress=None) -> Path:
    """The folder holding the spec's files, downloading them only when the Hub is reachable."""
    if _kind(spec).config_file is None:
        return Path(".")  # built from its source string alone
    if spec.is_local:
        folder = Path(spec.source)
        if not folder.is_dir():
            hint = " Train it with `python -m genart_playground.train`." if spec.is_builtin else ""
            raise ModelUnavailableError(f"Model {spec.name!r}: folder {folder} does not exist.{hint}")
        return folder
    patterns = _PIPELINE_PATTERNS if _kind(spec).pipeline else _ALLOW_PATTERNS
    try:
        return Path(snapshot_download(spec.source, allow_patterns=patterns, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError):
        pass
    missing = (f"Model {spec.name!r} is not in the local Hugging Face cache and the Hub cannot be reached. "
               f"Fetch it on a machine with internet: `{fetch_command(spec)}`.")
    if not hub_reachable():
        raise ModelUnavailableError(missing)
    if progress is not None:
        progress(0.0, f"Downloading {spec.name} (first use)…")
    try:
        # snapshot_download prints a tqdm bar per file on the console.
        return Path(snapshot_download(spec.source, allow_patterns=patterns, etag_timeout=5))
    except (OSError, HfHubHTTPError, ValueError) as error:
        raise ModelUnavailableError(f"{missing} ({type(error).__name__})") from error


def _trusted_library(name) -> bool:
    """diffusers, transformers, or a pipeline module inside diffusers: SD 1.x lists its safety checker
    as ["stable_diffusion", "StableDiffusionSafetyChecker"], code that ships with diffusers."""
    if name in _TRUSTED_LIBRARIES:
        return True
    return isinstance(name, str) and name.isidentifier() and \
        importlib.util.find_spec(f"diffusers.pipelines.{name}") is not None


def _check_links(root: Path, home: Path, spec: ModelSpec) -> None:
    """No file of the model may be a link that leaves its home (its folder; a Hub snapshot's repository
    cache, whose files link to its blobs): a `model.safetensors` linking to /etc/passwd is refused, unread."""
    home = home.resolve()
    for path in [root, *root.rglob("*")]:
        if path.is_symlink() and not path.resolve().is_relative_to(home):
            where = path.relative_to(root) if path != root else path.name
            raise UnsafeModelError(f"Model {spec.name!r}: {where} is a link that leads outside the model's folder; "
                                   "refused.")


def check_folder(folder: Path, spec: ModelSpec) -> None:
    """Refuse what is not one model's folder, links out of it, folders without safetensors weights, and
    folders that need code shipped with the model."""
    root = folder / spec.subfolder if spec.subfolder else folder
    _check_links(root, folder if spec.is_local else folder.parents[1], spec)
    config_file = _kind(spec).config_file
    if config_file is not None and not (root / config_file).is_file() and not any(root.glob("*.safetensors")):
        raise UnsafeModelError(f"{spec.name!r} is not a model's folder: it has neither {config_file} nor weights of "
                               "its own (a folder of models holds them in its subfolders).")
    if not any(root.rglob("*.safetensors")):
        raise UnsafeModelError(f"Model {spec.name!r} has no .safetensors weights; other formats are refused.")
    for config_path in root.rglob("*.json"):
        try:
            config = json.loads(config_path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(config, dict) and ("auto_map" in config or "custom_pipeline" in config):
            raise UnsafeModelError(f"Model {spec.name!r} needs remote code ({config_path.name}); refused.")
    index = folder / "model_index.json"
    if _kind(spec).pipeline:
        if not index.is_file():
            raise UnsafeModelError(f"Model {spec.name!r} has no model_index.json; it is not a diffusers pipeline.")
        for key, value in json.loads(index.read_text()).items():
            if isinstance(value, list) and value and value[0] is not None and not _trusted_library(value[0]):
                raise UnsafeModelError(f"Model {spec.name!r}: component {key!r} comes from {value[0]!r}; refused.")


def module_bytes(model) -> int:
    """Bytes of parameters and buffers of a module or of every module of a pipeline."""
    import torch  # here, not at the top: the UI imports this module for `availability` at start

    modules = getattr(model, "components", None)
    modules = [m for m in modules.values() if isinstance(m, torch.nn.Module)] if modules else [model]
    return sum(t.numel() * t.element_size() for m in modules if isinstance(m, torch.nn.Module)
               for t in [*m.parameters(), *m.buffers()])


# One model is built at a time, in the whole process. from_pretrained is not thread-safe: accelerate
# and transformers create weights on the meta device by patching torch.nn.Module globally, so a
# model built in another thread at the same time gets meta weights ("Cannot copy out of meta tensor").
_BUILD_LOCK = threading.Lock()


def load(spec: ModelSpec, *, progress=None):
    """Build the model a spec names, on the chosen device."""
    from ..devices import pick_device  # torch: loaded with the first model, not with the UI

    device = pick_device()
    folder = local_folder(spec, progress=progress)  # downloads may run side by side; builds may not
    with _BUILD_LOCK:
        model = _build(spec, folder, device)
    console.quiet_library_notices()  # a library imported by the build (diffusers) has made its console handler
    return model


def _build(spec: ModelSpec, folder: Path, device):
    kind = _kind(spec)
    if kind.config_file is not None:
        check_folder(folder, spec)
    return resolve_ref(kind.build)(folder, spec, device)


def _has_config(spec: ModelSpec) -> bool:
    """Whether a local folder holds the file from_pretrained starts from (a half-trained one may not)."""
    root = Path(spec.source) / (spec.subfolder or "")
    return (root / _kind(spec).config_file).is_file()


@functools.lru_cache(maxsize=1)
def hub_reachable() -> bool:
    """One quick connection attempt per process; offline mode never tries."""
    if constants.is_offline_mode():
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=2).close()
        return True
    except OSError:
        return False


def availability(spec: ModelSpec) -> str:
    """'built-in', 'local', 'cached', 'download' or 'missing': can it run now, and from where. A model
    whose required models cannot run cannot run either."""
    for required in spec.requires:
        if availability(registry.resolve(registry.family_of(required), required)) == "missing":
            return "missing"
    if _kind(spec).config_file is None:
        return "built-in"
    if spec.is_local:
        return ("built-in" if spec.is_builtin else "local") if _has_config(spec) else "missing"
    try:
        snapshot_download(spec.source, allow_patterns=_ALLOW_PATTERNS, local_files_only=True)
        return "cached"
    except (LocalEntryNotFoundError, FileNotFoundError):
        return "download" if hub_reachable() else "missing"
