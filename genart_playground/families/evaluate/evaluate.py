"""The evaluation lab: judge pictures the way the survey's section on evaluation asks (visual quality,
prompt consistency, diversity, controllability, speed), and compare models side by side.

    evaluate_images(images, prompts=..., reference=...)   any pictures, made anywhere
    evaluate(model, task=..., prompts=..., samples_per_prompt=..., seed=...)   makes them first
    compare([model, ...], **the same options)

The measures live in genart_playground/metrics; this module checks inputs, makes pictures and
gathers the figures into one result.
"""


import torch
from PIL import Image

from ... import checks, limits
from ...data import shapes
from .. import evaluate as evaluate_family
from ...metrics import alignment, distribution, world
from ...models import loading, registry
from ...models.cache import cache
from ...results import ComparisonResult, EvaluationResult, versions

TASK_ALIASES = {"t2i": "text_to_image"}  # besides the registry's older family names ("text-to-image", "gan")
KID_SEED = 0  # KID's random subsets: fixed, so one set of pictures always gets one figure
EDITS_PER_ATTRIBUTE = 4  # controllability: 16 one-word changes (colour, shape, position, background), 1 picture each

_reference_features: dict[tuple[str, int], torch.Tensor] = {}  # (features model, n) -> the default reference's


# ---- checks --------------------------------------------------------------------------------------------

def _check_pictures(name: str, images, low: int = 2) -> list[Image.Image]:
    if not isinstance(images, (list, tuple)) or not images:
        raise ValueError(f"`{name}` must be a list of {low} to {limits.MAX_EVAL_IMAGES} pictures, got "
                         f"{'none' if not images else type(images).__name__}.")
    if not low <= len(images) <= limits.MAX_EVAL_IMAGES:
        raise ValueError(f"`{name}` must hold {low} to {limits.MAX_EVAL_IMAGES} pictures, got {len(images)}.")
    for i, image in enumerate(images):
        checks.check_image(f"{name}[{i}]", image)
        if max(image.size) > limits.MAX_EVAL_IMAGE_SIDE:
            raise ValueError(f"`{name}[{i}]` is {image.width}×{image.height}; pictures to judge may be at most "
                             f"{limits.MAX_EVAL_IMAGE_SIDE} pixels on a side.")
    sizes = {image.size for image in images}
    if len(sizes) > 1:
        raise ValueError(f"`{name}` must all be one size, got {len(sizes)} sizes "
                         f"({', '.join(f'{w}×{h}' for w, h in sorted(sizes)[:3])}...).")
    return list(images)


def _check_prompts(prompts, count: int | None = None) -> list[str]:
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)) or not prompts:
        raise ValueError(f"`prompts` must be a list of 1 to {limits.MAX_EVAL_PROMPTS} prompts or a prompt set "
                         f"({', '.join(world.PROMPT_SETS)}).")
    if count is not None and len(prompts) != count:
        raise ValueError(f"`prompts` must hold one prompt per picture: {count}, got {len(prompts)}.")
    return [checks.check_prompt(f"prompts[{i}]", prompt) for i, prompt in enumerate(prompts)]


def tasks() -> list[str]:
    """The families whose models the lab can judge: those that can sample, from prompts or from seeds."""
    return registry.families_that(*evaluate_family.DRAWS_WITH)


def _check_task(task) -> str:
    try:
        family_id = registry.family(TASK_ALIASES.get(task, task)).id if isinstance(task, str) else None
    except (KeyError, ValueError):
        family_id = None
    if family_id not in tasks():
        raise ValueError(f"`task` must be one of {', '.join(tasks())}, got {task!r}.")
    return family_id


def _prompted(task: str) -> bool:
    return registry.family(task).can("sample_prompts")


def _prompt_list(prompts, seed: int) -> list[str]:
    """A prompt set's name, or the prompts themselves."""
    if prompts is None or (isinstance(prompts, str) and prompts in world.PROMPT_SETS):
        return world.prompt_set(prompts or "standard", seed)
    prompts = _check_prompts(prompts)
    if len(prompts) > limits.MAX_EVAL_PROMPTS:
        raise ValueError(f"`prompts` may hold at most {limits.MAX_EVAL_PROMPTS} prompts, got {len(prompts)}.")
    return prompts


# ---- evaluate_images ------------------------------------------------------------------------------------

def _features_model(features: str | None):
    spec = registry.resolve("evaluate", features)
    return spec, cache.load("evaluate", spec.name)


def _reference(network, spec, reference, progress) -> tuple[torch.Tensor, str]:
    if reference is not None:
        return distribution.features(network, reference), f"{len(reference)} pictures given"
    key = (spec.name, distribution.REFERENCE_SIZE)
    if key not in _reference_features:  # the default reference is fixed: its features once per network
        if progress is not None:
            progress(0.0, "Rendering the reference pictures")
        _reference_features[key] = distribution.features(network, distribution.reference_images())
    return _reference_features[key], (f"{distribution.REFERENCE_SIZE} shapes-world pictures of the training "
                                      "split (seed 0)")


def _clip_spec(clip):
    """The CLIP model `clip` names (None: the default); False: none asked for."""
    if clip is False:
        return None
    if clip is not None and not isinstance(clip, str):
        raise ValueError("`clip` must be a CLIP model's name, None (the default when cached) or False.")
    spec = registry.resolve("evaluate", clip or evaluate_family.CLIP_MODEL)
    if not registry.can(spec, "match_text"):
        raise ValueError(f"`clip` must name a CLIP model, got {spec.name!r} (a {spec.kind} model).")
    return spec


def _clip_model(spec, named: bool):
    """(the CLIP network, its name), or (None, why not): a CLIP named outright must load, the default is
    used only when it is in the local cache."""
    if spec is None:
        return None, "not asked for"
    if not named and loading.availability(spec) not in ("built-in", "local", "cached"):
        return None, f"{spec.name} is not in the local Hugging Face cache"
    return cache.load("evaluate", spec.name), spec.name


@torch.inference_mode()
def evaluate_images(images, *, prompts=None, reference=None, features=None, clip=None,
                    progress=None) -> EvaluationResult:
    """Judge any pictures (optionally with the prompt each was made from) against real ones. `features`
    names the feature network (default builtin/shapes-features; a CLIP model measures FID in CLIP's
    space); `clip` the CLIP model of the CLIP score (default: openai/clip-vit-base-patch32 when it is in
    the local cache; False: none)."""
    # 1. Check inputs
    images = _check_pictures("images", images)
    prompts = _check_prompts(prompts, len(images)) if prompts is not None else None
    reference = _check_pictures("reference", reference) if reference is not None else None
    clip_spec = _clip_spec(clip)

    # 2. Features of the pictures and of the real ones
    spec, network = _features_model(features)
    real, described = _reference(network, spec, reference, progress)
    if progress is not None:
        progress(0.1, f"Features of {len(images)} pictures")
    fake = distribution.features(network, images)

    # 3. Distribution measures in feature space
    groups = _groups(prompts) if prompts else {"": list(range(len(images)))}  # diversity within each prompt
    kid_mean, kid_std = distribution.kid(real, fake, seed=KID_SEED)
    scores = {"fid": distribution.fid(real, fake), "kid": kid_mean, "kid_std": kid_std,
              **distribution.prdc(real, fake), "diversity": distribution.diversity(fake, list(groups.values()), real)}

    # 4. What the checker reads: clean pictures, combinations, and agreement with the prompts
    if progress is not None:
        progress(0.6, "Reading each picture with the checker")
    judged = world.judge(images)
    collapse = world.mode_collapse(judged)
    scores["clean"] = world.clean_fraction(judged)
    scores["combination_coverage"] = collapse["covered"] / world.WORLD_COMBINATIONS
    table = []
    if prompts:
        named = [world.prompt_attributes(prompt) for prompt in prompts]
        agreement = world.consistency(judged, named)
        if "all" in agreement:  # some prompt names what the world has (a prompt about a cat names nothing)
            scores["prompt_consistency"] = agreement["all"]
        scores.update({f"{key}_consistency": value for key, value in agreement.items() if key != "all"})
        table = _prompt_rows(groups, judged, named, fake, real)
    clip_network, clip_used = _clip_model(clip_spec, clip is not None) if prompts else (None, "no prompts")
    if clip_network is not None:
        if progress is not None:
            progress(0.8, f"CLIP score with {clip_used}")
        scores["clip_score"] = alignment.clip_score(clip_network, images, prompts)
    metadata = {"task": "evaluate_images", "features": spec.name, "feature_dim": int(fake.shape[1]),
                "clip": clip_used if clip_network is not None else f"no CLIP score: {clip_used}",
                "samples": len(images), "prompts": len(groups) if prompts else 0, "reference": described,
                "reference_samples": len(real), "kid_seed": KID_SEED, "kid_subsets": distribution.KID_SUBSETS,
                "neighbours": distribution.NEIGHBOURS, "versions": versions()}
    if progress is not None:
        progress(1.0, "Done")
    return EvaluationResult(images=images, metadata=metadata, metrics={k: round(float(v), 6) for k, v in scores.items()},
                            table=table, mode_collapse=collapse, judgements=[_reading(j) for j in judged],
                            prompts=prompts or [])


def _groups(prompts: list[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, prompt in enumerate(prompts):
        groups.setdefault(prompt, []).append(i)
    return groups


def _reading(judgement) -> str:
    """What the checker read, in words: "clean: small red circle on the left, gray background"."""
    if judgement.color is None or judgement.shape is None:
        return f"no clear shape ({judgement.background} background)"
    state = "clean" if judgement.clean else "not clean"
    return (f"{state}: {judgement.size} {judgement.color} {judgement.shape} "
            f"{shapes.POSITION_PHRASES[judgement.position]}, {judgement.background} background")


def _prompt_rows(groups, judged, named, fake, real) -> list[dict]:
    scale = distribution.mean_pairwise_distance(real) or 1.0
    rows = []
    for prompt, members in groups.items():
        agreement = world.consistency([judged[i] for i in members], [named[i] for i in members])
        rows.append({"prompt": prompt, "pictures": len(members),
                     "consistency": round(agreement["all"], 4) if "all" in agreement else None,
                     "clean": round(world.clean_fraction([judged[i] for i in members]), 4),
                     "diversity": round(distribution.mean_pairwise_distance(fake[members]) / scale, 4),
                     **{key: round(value, 4) for key, value in agreement.items() if key != "all"}})
    # Worst first; a prompt naming nothing the checker reads comes last.
    return sorted(rows, key=lambda row: (2.0 if row["consistency"] is None else row["consistency"], row["clean"]))


# ---- evaluate: make the pictures, then judge them --------------------------------------------------------

def evaluate(model=None, *, task="text_to_image", prompts=None, samples_per_prompt=4, seed=0, features=None,
             progress=None) -> EvaluationResult:
    """Make pictures with a text-to-image or GAN model and judge them (plus speed and controllability)."""
    # 1. Check inputs, and the whole request's size, before any model work
    spec, task, prompts, samples_per_prompt, seed = _checked_request(model, task, prompts, samples_per_prompt, seed,
                                                                     features)

    # 2. Make the pictures (timed), then judge them
    def share(low, high):
        return None if progress is None else (lambda f, message="": progress(low + (high - low) * f, message))

    made = _draw(spec, task, prompts, samples_per_prompt, seed, share(0.0, 0.75))
    result = evaluate_images(made["images"], prompts=made["prompts"], features=features, progress=share(0.75, 0.95))

    # 3. Controllability (models drawn from prompts): change one word, keep the seed
    if _prompted(task):
        result.metrics.update({f"controllability_{key}" if key != "all" else "controllability": round(value, 6)
                               for key, value in _controllability(spec, task, made, share(0.95, 1.0)).items()})
    result.metrics.update(seconds_per_picture=round(made["seconds"] / len(made["images"]), 4),
                          evaluations_per_picture=made["evaluations"])
    result.metadata.update(task="evaluate", model=spec.name, model_task=task, samples_per_prompt=samples_per_prompt,
                           seed=seed, prompt_list=made["prompt_list"], settings=made["settings"])
    return result


def _checked_request(model, task, prompts, samples_per_prompt, seed, features) -> tuple:
    """evaluate()'s options, checked: (the model's spec, the task, the prompt list, samples, seed)."""
    task = _check_task(task)
    samples_per_prompt = checks.check_int("samples_per_prompt", samples_per_prompt, 1, limits.MAX_IMAGES)
    seed = checks.check_seed("seed", seed)
    if not _prompted(task) and prompts is not None and prompts not in world.PROMPT_SETS:
        raise ValueError(f"`prompts` cannot be given to a {registry.family(task).title} model: it draws from seeds "
                         "alone; leave `prompts` out.")
    prompts = _prompt_list(prompts, seed)
    total = len(prompts) * samples_per_prompt
    if total < 2:
        raise ValueError("One evaluation needs at least 2 pictures: give more prompts or samples_per_prompt.")
    if total > limits.MAX_EVAL_PICTURES:
        raise ValueError(f"{len(prompts)} prompts × {samples_per_prompt} samples_per_prompt = {total} pictures; "
                         f"one evaluation may make at most {limits.MAX_EVAL_PICTURES}.")
    spec = registry.resolve(task, model)
    registry.resolve("evaluate", features)
    if registry.family(task).can("check_sampling"):  # a public server's bound, from the settings alone
        registry.family(task).capability("check_sampling")(spec, samples_per_prompt)
    return spec, task, prompts, samples_per_prompt, seed


def _draw(spec, task, prompts, per_prompt, seed, progress) -> dict:
    """The pictures to judge, drawn by the model's family: from the prompts, or (a model that takes none) as
    many from seeds as the prompts would make."""
    family = registry.family(task)
    if family.can("sample_prompts"):
        samples = family.capability("sample_prompts")(spec, prompts, per_prompt, seed, progress)
        prompt_list = prompts
    else:
        samples = family.capability("sample")(spec, len(prompts) * per_prompt, seed, progress)
        prompt_list = []
    return {"images": samples.images, "prompts": samples.named, "seconds": samples.seconds,
            "evaluations": samples.evaluations, "prompt_list": prompt_list, "settings": samples.settings, "seed": seed}


def _controllability(spec, task, made, progress) -> dict:
    """Each edit's prompt drawn from the seed of the picture it edits (the family's own sampler), both read."""
    sample_prompts = registry.family(task).capability("sample_prompts")
    base_prompts, per_prompt = made["prompt_list"], len(made["images"]) // len(made["prompt_list"])
    chosen = world.edits(base_prompts, EDITS_PER_ATTRIBUTE)
    pairs = []
    for n, (index, key, value, edited) in enumerate(chosen):
        picture = sample_prompts(spec, [edited], 1, made_seed(made, index, per_prompt), None).images[0]
        before = world.judge([made["images"][index * per_prompt]])[0]
        pairs.append((before, world.judge([picture])[0], key, value))
        if progress is not None:
            progress((n + 1) / len(chosen), f"Controllability: {n + 1} of {len(chosen)} one-word changes")
    return world.controllability(pairs)


def made_seed(made: dict, index: int, per_prompt: int) -> int:
    """The seed of prompt `index`'s first picture (prompt i's pictures are seeds seed + i·per_prompt ...)."""
    return made["seed"] + index * per_prompt


# ---- compare ------------------------------------------------------------------------------------------------

def compare(models, *, task=None, prompts=None, samples_per_prompt=4, seed=0, features=None, progress=None,
            on_result=None) -> ComparisonResult:
    """`evaluate` on each model with the same options: one result per model and a side-by-side table.
    `on_result(name, result)` is called as each model's evaluation ends (the tab shows it at once)."""
    # 1. Check every model and the options before any model work
    if isinstance(models, str) or not isinstance(models, (list, tuple)) or not models:
        raise ValueError(f"`models` must be a list of 1 to {limits.MAX_COMPARE_MODELS} model names.")
    if len(models) > limits.MAX_COMPARE_MODELS:
        raise ValueError(f"`models` may name at most {limits.MAX_COMPARE_MODELS} models, got {len(models)}.")
    if len(set(models)) != len(models):
        raise ValueError("`models` names a model twice.")
    tasks = [_check_task(task) if task is not None else _task_of(name) for name in models]
    for name, model_task in zip(models, tasks):  # each as evaluate() will be called
        _checked_request(name, model_task, _prompts_for(model_task, prompts), samples_per_prompt, seed, features)

    # 2. Each model in turn
    results = {}
    for i, (name, model_task) in enumerate(zip(models, tasks)):
        report = None if progress is None else (
            lambda f, message="", i=i, name=name: progress((i + f) / len(models), f"{name}: {message}"))
        results[name] = evaluate(name, task=model_task, prompts=_prompts_for(model_task, prompts),
                                 samples_per_prompt=samples_per_prompt, seed=seed, features=features, progress=report)
        if on_result is not None:
            on_result(name, results[name])
    return ComparisonResult(results=results, table=comparison_table(results),
                            metadata={"task": "compare", "models": list(models), "prompts": prompts,
                                      "samples_per_prompt": samples_per_prompt, "seed": seed,
                                      "features": features or registry.default_model("evaluate"),
                                      "versions": versions()})


def _task_of(name) -> str:
    if not isinstance(name, str):
        raise ValueError(f"`models` must hold model names, got {type(name).__name__}.")
    try:
        family = registry.family_of(name)
    except ValueError:
        raise ValueError(f"Model {name!r} is not in the registry; give `task` ({', '.join(tasks())}) to evaluate it.")
    if family not in tasks():
        raise ValueError(f"Model {name!r} is a {family} model; the lab judges {', '.join(tasks())} models.")
    return family


def _prompts_for(task: str, prompts):
    """A GAN takes no prompts: in a comparison it draws as many samples as the prompt set would make."""
    return prompts if _prompted(task) else None


def comparison_table(results: dict[str, EvaluationResult]) -> list[dict]:
    """One row per model: its name, task and every metric any of them has (missing ones empty)."""
    keys = list(dict.fromkeys(key for result in results.values() for key in result.metrics))
    return [{"model": name, "task": result.metadata.get("model_task", ""),
             **{key: result.metrics.get(key) for key in keys}} for name, result in results.items()]
