"""A result's recipe, carried with it: PNG text chunks, runnable code and a reproducibility card.

Two chunks go into every PNG: `parameters`, in the text format AUTOMATIC1111 writes, so other
tools and image sites show the settings; and `genart_playground`, the full metadata as JSON, which
is what `read_recipe` reads back. No torch here: the UI builds these from the metadata alone.
"""

import io
import json
import re
import struct
import zlib
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

PARAMETERS_KEY = "parameters"  # AUTOMATIC1111's key, read by most Stable Diffusion tools
JSON_KEY = "genart_playground"

# Our scheduler class -> the sampler name AUTOMATIC1111 shows for it (its own names, so tools
# that map samplers recognise them); any other class is written by its class name.
_A1111_SAMPLERS = {
    "EulerDiscreteScheduler": "Euler",
    "EulerAncestralDiscreteScheduler": "Euler a",
    "DPMSolverMultistepScheduler": "DPM++ 2M",
    "DDIMScheduler": "DDIM",
    "PNDMScheduler": "PLMS",
    "LMSDiscreteScheduler": "LMS",
    "HeunDiscreteScheduler": "Heun",
    "UniPCMultistepScheduler": "UniPC",
}
# Scheduler names that change the scheduler's config, not only its class (families/text_to_image/text_to_image.py).
_SCHEDULER_OVERRIDES = {"dpm++-karras": {"use_karras_sigmas": True}}
_SIZE = re.compile(r"^(\d+)x(\d+)$")
# The `parameters` text read back: a real one is a prompt, a negative prompt and a line of settings (a few KB);
# anything longer is refused before it is parsed.
MAX_PARAMETERS_CHARS = 64 * 1024


# The AUTOMATIC1111 `parameters` text ------------------------------------------------------------

def _quote(value) -> str:
    """As AUTOMATIC1111's infotext_utils.quote: JSON-quoted only when it holds a comma, colon or newline."""
    text = str(value)
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _prompt(metadata: dict) -> str:
    return str(metadata.get("prompt") or "")  # a result that prompted a model records it as "prompt"


def _size(metadata: dict) -> str | None:
    if metadata.get("width") and metadata.get("height"):
        return f"{metadata['width']}x{metadata['height']}"
    if isinstance(metadata.get("size"), list) and len(metadata["size"]) == 2:
        return f"{metadata['size'][0]}x{metadata['size'][1]}"
    return None


def a1111_parameters(metadata: dict) -> str:
    """The recipe as AUTOMATIC1111's create_infotext writes it: the prompt, a `Negative prompt:`
    line when there is one, then `Steps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1, Size: 512x512, ...`."""
    scheduler = metadata.get("scheduler_class")
    params = {
        "Steps": metadata.get("steps"),
        "Sampler": _A1111_SAMPLERS.get(scheduler, scheduler) if scheduler else None,
        "CFG scale": metadata.get("guidance"),
        "Seed": metadata.get("seed", metadata.get("seed_a")),
        "Size": _size(metadata),
        "Model": metadata.get("model"),
        "Denoising strength": metadata.get("strength"),
        "Version": f"genart_playground {metadata.get('versions', {}).get('genart_playground', '')}".strip(),
    }
    line = ", ".join(f"{key}: {_quote(value)}" for key, value in params.items() if value is not None)
    negative = metadata.get("negative_prompt") or ""
    negative_line = f"\nNegative prompt: {negative}" if negative else ""
    return f"{_prompt(metadata)}{negative_line}\n{line}".strip()


def _key_before(piece: str) -> str | None:
    """The key that ends `piece` (the text before a colon): the longest tail of key characters that starts
    with a letter or digit, as AUTOMATIC1111's pattern `\\w[\\w \\-/]+` finds it; None if there is none."""
    start = len(piece)
    while start > 0 and (piece[start - 1].isalnum() or piece[start - 1] in "_ -/"):
        start -= 1
    while start < len(piece) and not (piece[start].isalnum() or piece[start] == "_"):
        start += 1
    return piece[start:] if len(piece) - start >= 2 else None


def _closing_quote(line: str, start: int) -> int:
    """Where the JSON string opening at line[start] closes (a backslash escapes the next character); -1 if never."""
    i = start + 1
    while i < len(line):
        if line[i] == "\\":
            i += 2
        elif line[i] == '"':
            return i if i > start + 1 else -1
        else:
            i += 1
    return -1


def a1111_pairs(line: str) -> list[tuple[str, str]]:
    """The "Key: value, Key: "quoted, value"" pairs of AUTOMATIC1111's settings line, in one pass over it.
    (A1111's own regex backtracks in time quadratic in the line's length: a PNG of 250 bytes whose text
    inflates to 128,000 characters held the server for 48 s.)"""
    pairs, i = [], 0
    while True:
        colon = line.find(":", i)
        if colon < 0:
            return pairs
        comma = line.rfind(",", i, colon)
        if comma >= 0:  # the pieces before it have no colon of their own: no pairs (a key holds no comma)
            i = comma + 1
            continue
        key = _key_before(line[i:colon])
        if key is None:  # a colon with no key before it: the next pair may start right after it
            i = colon + 1
            continue
        value_start = colon + 1
        while value_start < len(line) and line[value_start].isspace():
            value_start += 1
        end = _closing_quote(line, value_start) if line.startswith('"', value_start) else -1
        if end >= 0 and (end + 1 == len(line) or line[end + 1] == ","):
            value, i = line[value_start:end + 1], end + 2
        else:
            next_comma = line.find(",", value_start)
            next_comma = len(line) if next_comma < 0 else next_comma
            value, i = line[value_start:next_comma], next_comma + 1
        pairs.append((key, value))
        if i > len(line):
            return pairs


def parse_a1111_parameters(text: str) -> dict:
    """AUTOMATIC1111 `parameters` text back to our keys: prompt, negative_prompt, steps, guidance,
    seed, width, height, model (and sampler); what is absent stays absent. Text over MAX_PARAMETERS_CHARS
    is a ValueError."""
    if len(text) > MAX_PARAMETERS_CHARS:
        raise ValueError(f"The PNG's `parameters` text is {len(text):,} characters; a recipe is at most "
                         f"{MAX_PARAMETERS_CHARS:,}.")
    *lines, last = text.strip().split("\n")
    found = a1111_pairs(last)
    if len(found) < 3:  # as A1111: a last line with fewer pairs is part of the prompt
        lines.append(last)
        found = []
    prompt, negative, in_negative = [], [], False
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            in_negative, line = True, line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt).append(line)
    pairs = {key.strip(): _unquote(value.strip()) for key, value in found}
    recipe = {"prompt": "\n".join(prompt), "negative_prompt": "\n".join(negative)}
    for key, name, kind in [("Steps", "steps", int), ("CFG scale", "guidance", float), ("Seed", "seed", int),
                            ("Model", "model", str), ("Sampler", "sampler", str)]:
        if key in pairs:
            try:
                recipe[name] = kind(pairs[key])
            except ValueError:
                pass  # another tool's odd value: leave the setting out rather than guess
    size = _SIZE.match(pairs.get("Size", ""))
    if size:
        recipe["width"], recipe["height"] = int(size.group(1)), int(size.group(2))
    return recipe


# PNG chunks -------------------------------------------------------------------------------------

def png_with_recipe(image: Image.Image, metadata: dict) -> bytes:
    """The image as PNG bytes with both recipe chunks (tEXt, or iTXt when the text is not Latin-1)."""
    info = PngInfo()
    info.add_text(PARAMETERS_KEY, a1111_parameters(metadata))
    info.add_text(JSON_KEY, json.dumps(metadata, ensure_ascii=False, default=str))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT_BYTES = 2**20  # one text chunk, once inflated: a recipe is a few KB; a zlib bomb stops here


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, MAX_TEXT_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"A text chunk of the PNG inflates to more than {MAX_TEXT_BYTES // 1024} KB.")
    return text


def _text_chunk(kind: bytes, data: bytes) -> tuple[str, str] | None:
    key, _, rest = data.partition(b"\0")
    if kind == b"tEXt":
        return key.decode("latin-1"), rest.decode("latin-1")
    if kind == b"zTXt":
        return key.decode("latin-1"), _inflate(rest[1:]).decode("latin-1")
    if kind == b"iTXt" and len(rest) >= 2:
        compressed, rest = rest[0], rest[2:]
        _, _, rest = rest.partition(b"\0")  # language tag
        _, _, text = rest.partition(b"\0")  # translated keyword
        return key.decode("latin-1"), (_inflate(text) if compressed else text).decode("utf-8", errors="replace")
    return None


def png_text(data: bytes) -> dict[str, str]:
    """A PNG's text chunks, read from its bytes without decoding a pixel; its size checked against the
    upload cap first (PIL's `.text` decodes the whole image, every frame of an APNG)."""
    from . import limits

    if not data.startswith(_PNG_SIGNATURE):
        return {}
    text, offset = {}, len(_PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunk = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR" and len(chunk) >= 8:
            width, height = struct.unpack(">II", chunk[:8])
            if width * height > limits.MAX_UPLOAD_PIXELS:
                raise ValueError(f"The PNG is {width}×{height} = {width * height:,} pixels; the limit is "
                                 f"{limits.MAX_UPLOAD_PIXELS:,} pixels.")
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            try:
                found = _text_chunk(kind, chunk)
            except zlib.error:
                continue  # a damaged chunk: the other one may still be read
            if found:
                text.setdefault(*found)
        elif kind == b"IEND":
            break
    return text


def read_recipe(path_or_image) -> dict | None:
    """The metadata a PNG carries: our JSON chunk, else its AUTOMATIC1111 `parameters` parsed,
    else None (no recipe, or not a PNG). A path or bytes is read without decoding its pixels; a PNG
    over the upload pixel cap, or whose text inflates past MAX_TEXT_BYTES, is a ValueError."""
    if isinstance(path_or_image, (str, Path, bytes)):
        from . import limits

        if isinstance(path_or_image, bytes):
            data = path_or_image
        else:
            try:
                if Path(path_or_image).stat().st_size > limits.MAX_UPLOAD_BYTES:
                    raise ValueError(f"The file is over {limits.MAX_UPLOAD_BYTES // 2**20} MB.")
                data = Path(path_or_image).read_bytes()
            except OSError:
                return None
        text = png_text(data)
    else:
        text = dict(getattr(path_or_image, "text", None) or path_or_image.info)
    if isinstance(text.get(JSON_KEY), str):
        try:
            recipe = json.loads(text[JSON_KEY])
            if isinstance(recipe, dict):
                return recipe
        except (json.JSONDecodeError, RecursionError):
            pass  # a damaged chunk (or one nested past Python's stack): try the other one
    if isinstance(text.get(PARAMETERS_KEY), str):
        return parse_a1111_parameters(text[PARAMETERS_KEY])
    return None


# Code -------------------------------------------------------------------------------------------

def call(function: str, args: list[str], options: dict) -> str:
    """`result = function(args..., key=value, ...)`, as a line of a snippet."""
    parts = [*args, *(f"{key}={value!r}" for key, value in options.items())]
    return f"result = {function}({', '.join(parts)})"


def _chosen_scheduler(metadata: dict) -> str | None:
    """The scheduler the user named; None when the recipe used the model's own (its class name)."""
    scheduler = metadata.get("scheduler")
    return scheduler if scheduler and scheduler != metadata.get("scheduler_class") else None


_DIFFUSION_DEFAULTS = {"negative_prompt": "", "num_images": 1, "seed": 0, "seed_a": 0}


def diffusion_options(metadata: dict, names: list[str]) -> dict:
    """A diffusion call's keyword arguments: the recipe's value of each name, and the scheduler the user chose."""
    options = {"model": metadata.get("model"),
               **{name: metadata.get(name, _DIFFUSION_DEFAULTS.get(name)) for name in names}}
    if _chosen_scheduler(metadata):
        options["scheduler"] = _chosen_scheduler(metadata)
    return options


def code_snippet(metadata: dict) -> str:
    """Python that makes the result again with the package API; each family writes its own."""
    from .models import registry

    snippet = registry.snippet(metadata.get("task"))
    if snippet is None:
        raise ValueError(f"No code for task {metadata.get('task')!r}.")
    return snippet(metadata)


def diffusers_snippet(metadata: dict) -> str | None:
    """Plain library code for a result, where its family gives one (`Family.plain_snippets`: a text-to-image
    run of a diffusers pipeline); None otherwise."""
    from .models import registry

    found = registry.plain_snippet(metadata.get("task"))
    if found is None:
        return None
    family_id, snippet = found
    try:
        spec = registry.resolve(family_id, metadata.get("model"))
    except ValueError:
        return None
    return snippet(metadata, spec)


def pipeline_snippet(metadata: dict, spec) -> str | None:
    """Plain diffusers code for a run of a diffusers pipeline that denoises; None for another model."""
    from .models import registry

    if not registry.can(spec, "denoise") or not registry.kinds()[spec.kind].pipeline:
        return None
    scheduler_class = metadata.get("scheduler_class") or "DDIMScheduler"
    overrides = {k: v for k, v in spec.defaults.items() if k == "timestep_spacing"}
    overrides.update(_SCHEDULER_OVERRIDES.get(metadata.get("scheduler"), {}))
    scheduler_args = "".join(f", {key}={value!r}" for key, value in overrides.items())
    subfolder = f", subfolder={spec.subfolder!r}" if spec.subfolder else ""
    dtype = metadata.get("dtype", "float32")
    device = metadata.get("device", "cpu")
    seed, count = metadata.get("seed", 0), metadata.get("num_images", 1)
    negative = metadata.get("negative_prompt") or None
    if spec.is_builtin:
        # The folder ships inside the package: found where it is installed, not at this machine's path.
        where = ["from genart_playground.settings import BUILTIN_DIR"]
        source = f"BUILTIN_DIR / {Path(spec.source).name!r}"
    else:
        where, source = [], repr(spec.source)
    return "\n".join([
        "import torch",
        f"from diffusers import DiffusionPipeline, {scheduler_class}",
        *where,
        "",
        f"pipe = DiffusionPipeline.from_pretrained({source}{subfolder}, dtype=torch.{dtype})",
        f"pipe.scheduler = {scheduler_class}.from_config(pipe.scheduler.config{scheduler_args})",
        f"pipe = pipe.to({device!r})",
        "# One CPU generator per image: the same noise on every device; image i uses seed + i.",
        f"generators = [torch.Generator(\"cpu\").manual_seed({seed!r} + i) for i in range({count!r})]",
        "images = pipe(",
        f"    prompt={metadata.get('prompt', '')!r},",
        f"    negative_prompt={negative!r},",
        f"    num_inference_steps={metadata.get('steps')!r},",
        f"    guidance_scale={metadata.get('guidance')!r},",
        f"    width={metadata.get('width')!r},",
        f"    height={metadata.get('height')!r},",
        f"    num_images_per_prompt={count!r},",
        # Settings the model was trained with beyond the shared ones (the built-in DiT's one T5 token)
        *(f"    {key}={value!r}," for key, value in spec.defaults.get("pipeline_options", {}).items()),
        "    generator=generators,",
        ").images",
        "for i, image in enumerate(images):",
        "    image.save(f\"image_{i}.png\")",
    ])


# Card -------------------------------------------------------------------------------------------

def reproducibility_card(metadata: dict) -> str:
    """Markdown: where the result was computed and with what, i.e. what can make pixels differ."""
    if not metadata:
        return "*Run the tab to see where and how the result was computed.*"
    rows = [("Model", metadata.get("model")), ("Device", metadata.get("device")),
            ("Dtype", metadata.get("dtype")), ("Generator device", metadata.get("generator_device")),
            *((name, version) for name, version in (metadata.get("versions") or {}).items())]
    table = "\n".join(f"| {name} | `{value}` |" for name, value in rows if value is not None)
    return ("**Reproducibility card**\n\n| | |\n|---|---|\n" + table + "\n\n"
            "The noise comes from a CPU generator, so a seed gives the same starting noise on any device; "
            "pixels can still differ slightly across devices, dtypes and library versions.")
