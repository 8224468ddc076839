"""The built-ins' quality figures, as `bench/quality.py` prints them (each family's `bench`), measured
with the project's metrics package (genart_playground/metrics), the same one the training scripts keep
their best weights by and the evaluation lab reports.
"""

import random
import time
from pathlib import Path

import numpy as np
import torch

from . import imaging, metrics, settings
from .data import shapes
from .metrics import world


# ---- the built-ins' figures, as bench/quality.py prints them ------------------------------------------

T2I_BUILTINS = ("builtin/shapes-t2i", "builtin/shapes-dit", "builtin/shapes-vqgpt")


def t2i_figures(n: int, seed: int) -> None:
    """Each text-to-image built-in (UNet, diffusion transformer, token transformer) that is shipped."""
    from .models import loading, registry

    for name in T2I_BUILTINS:
        spec = registry.resolve("text_to_image", name)
        if loading.availability(spec) == "missing":
            print(f"{name}: not shipped")
            continue
        builtin_t2i_figures(name, n, seed)


def builtin_t2i_figures(name: str, n: int, seed: int) -> None:
    """Colour+shape on every combination (n pictures each), full captions on training combinations, and
    4 pictures' time, all through text_to_image at the model's registered defaults."""
    from .adapters.text_to_image import text_to_image

    def draw(prompt, count, first_seed):
        return text_to_image(prompt, model=name, num_images=count, seed=first_seed).images

    # 1. Colour and shape named: every combo, n images each
    result = text_to_image("a red circle", model=name, seed=seed)  # loads the model; its recipe names the settings
    shown = {k: result.metadata[k] for k in ("steps", "scheduler", "guidance", "temperature", "top_k")
             if k in result.metadata}
    print(f"{name} ({', '.join(f'{k} {v}' for k, v in shown.items())}):")
    per_combo = {}
    for color, shape in shapes.ALL_COMBOS:
        judged = world.judge(draw(f"a {color} {shape}", n, seed))
        per_combo[(color, shape)] = world.consistency(judged, [{"color": color, "shape": shape}] * n)["all"]
    train = np.mean([v for k, v in per_combo.items() if k not in shapes.HELD_OUT])
    print(f"  colour+shape right, training combos ({len(shapes.TRAIN_COMBOS)}×{n}): {train:.1%}")
    for combo in shapes.HELDOUT_COMBOS:
        print(f"  colour+shape right, held out '{' '.join(combo)}' ({n}): {per_combo[combo]:.1%}")
    print(f"  colour+shape right, held-out combos together: "
          f"{np.mean([per_combo[c] for c in shapes.HELDOUT_COMBOS]):.1%}")

    # 2. Everything named (training combos): background, position, size
    rng = random.Random(seed)
    scenes = [shapes.sample_scene(rng, "train") for _ in range(len(shapes.TRAIN_COMBOS) * n)]
    judged = world.judge([draw(shapes.full_caption(s), 1, seed + i)[0] for i, s in enumerate(scenes)])
    right = world.consistency(judged, [{key: getattr(s, key) for key in world.ATTRIBUTES} for s in scenes])
    for key in world.ATTRIBUTES:
        print(f"  full captions ({len(scenes)}): {key} right {right[key]:.1%}")
    print(f"  full captions: all five right {right['all']:.1%}, clean {world.clean_fraction(judged):.1%}")

    # 3. Speed: 4 images at the defaults, the median of 3 runs
    times = []
    for _ in range(3):
        began = time.perf_counter()
        draw("a red circle", 4, 0)
        times.append(time.perf_counter() - began)
    print(f"  4 images at the defaults: {sorted(times)[1]:.2f} s (median of 3) on {torch.get_num_threads()} threads")


def vae_figures(n: int, seed: int) -> None:
    """Each built-in autoencoder's PSNR and SSIM on 32·n held-out shapes pictures and on the held-out photos
    (scikit-learn's and matplotlib's, at 256×256), and its 512×512 round trip's time."""
    from diffusers import AutoencoderKL

    from .data import photos

    n = 32 * n
    held = shapes.ShapesDataset(n, seed=seed + 1000, split="heldout")
    pictures = {f"{n} held-out shapes pictures": torch.stack([held[i][0] for i in range(n)])}
    try:
        pictures["the 3 held-out photos, 256×256"] = torch.cat([imaging.to_tensor(photo.image)
                                                                for photo in photos.heldout_photos(256)])
    except SystemExit as missing:  # scikit-learn or matplotlib not installed
        print(f"  (no held-out photos: {missing})")
    for name, folder, subfolder in (("photo-vae", settings.BUILTIN_DIR / "photo-vae", None),
                                    ("shapes-vae", settings.BUILTIN_DIR / "shapes-t2i", "vae")):
        if not (folder / (subfolder or "") / "config.json").exists():
            print(f"{name}: not shipped")
            continue
        vae = AutoencoderKL.from_pretrained(folder, subfolder=subfolder, use_safetensors=True).eval()
        for kind, x in pictures.items():
            with torch.no_grad():
                recon = torch.cat([vae.decode(vae.encode(c).latent_dist.mode()).sample
                                   for c in x.split(16)]).clamp(-1, 1)
            psnr = metrics.psnr_per_image(x, recon)
            ssim = np.mean([metrics.ssim(a[None], b[None]) for a, b in zip(x, recon)])
            print(f"{name} on {kind}: PSNR mean {psnr.mean():.2f} dB (min {psnr.min():.2f}), SSIM {ssim:.3f}")
        big = imaging.to_tensor(shapes.render(held.scene(0)).resize((512, 512)))
        began = time.perf_counter()
        with torch.no_grad():
            vae.decode(vae.encode(big).latent_dist.mode())
        print(f"  {name} 512×512 round trip: {time.perf_counter() - began:.2f} s")


GAN_BUILTINS = ("builtin/shapes-gan", "builtin/shapes-stylegan")


def gan_figures(n: int, seed: int) -> None:
    """Per built-in generator: the checker's figures on 64·n samples, the walks' smoothness (in Z, and in
    W for a StyleGAN), the perceptual path length, the tab's speed; then what style mixing's layers control."""
    from .metrics import walks
    from .models.cache import cache
    from .train import gan as train_gan

    features = cache.load("evaluate", "builtin/shapes-features")
    for name in GAN_BUILTINS:
        try:
            generator = cache.load("gan_interpolation", name)
        except (OSError, RuntimeError, ValueError) as error:  # not shipped, or weights from an older layout
            print(f"{name}: could not load ({type(error).__name__}: {str(error).splitlines()[0]})")
            continue
        quality = train_gan.evaluate(generator, 64 * n, seed)
        print(f"{name}: {quality['clean_fraction']:.1%} of {64 * n} samples are one clean shape on a clean background; "
              f"{quality['train_combos_covered']}/20 training combos covered; held-out combos seen: "
              f"{', '.join(quality['heldout_combos_seen']) or 'none'}")
        if "shows_its_codes" in quality:
            print(f"  clean and showing the colour, shape and background its codes name: {quality['shows_its_codes']:.1%}")
        for space in ("z", "w") if hasattr(generator, "synthesis") else ("z",):
            steps = walks.walk_steps(generator, pairs=16, frames=32, space=space)
            ppl = walks.perceptual_path_length(generator, features, samples=32 * n, space=space)
            print(f"  walks in {space.upper()} (16 seed pairs, 32 {'lerp' if space == 'w' else 'slerp'} frames): mean "
                  f"change between frames {steps['mean_change']:.1f}/255 per pixel; largest step ÷ mean step "
                  f"{steps['mean_ratio']:.1f} on average, {steps['worst_ratio']:.1f} at worst; "
                  f"PPL {ppl['ppl']:.0f} (± {ppl['std']:.0f}, {ppl['samples']} paths, shapes-features distance)")
        walk_speed(name)
    mixing_figures()


def walk_speed(model: str, frames: int = 32) -> None:
    from . import gan_interpolation

    timings = []
    for _ in range(8):  # the first call may load the generator into the cache
        began = time.perf_counter()
        gan_interpolation(0, 1, model=model, frames=frames)
        timings.append(time.perf_counter() - began)
    print(f"  gan_interpolation(0, 1, frames={frames}) with the GIF: median {np.median(timings[1:]):.3f} s "
          f"(of {len(timings) - 1}, after a first call of {timings[0]:.2f} s)")


def mixing_figures(rows: int = 8, columns: int = 8) -> None:
    """What each crossover of builtin/shapes-stylegan hands to the coarse seed, over a rows × columns grid."""
    from . import style_mixing

    try:
        result = style_mixing(list(range(100, 100 + rows)), list(range(200, 200 + columns)))
    except (OSError, RuntimeError, ValueError) as error:
        print(f"style mixing: not measured ({type(error).__name__}: {str(error).splitlines()[0]})")
        return
    print(f"style mixing, {rows} coarse × {columns} fine seeds: the share of mixed pictures keeping the coarse "
          f"seed's attribute (where the two seeds differ), per crossover")
    for row in result.controls:
        shares = ", ".join(f"{name} {'—' if row[name] is None else f'{row[name]:.0%}'}"
                           for name in ("shape", "color", "size", "position", "background"))
        print(f"  layer {row['crossover']} ({row['resolution']}×{row['resolution']}): {shares}; clean mixes {row['clean']:.0%}")
    print(f"  the default crossover: layer {result.metadata['crossover']}")


def evaluation_figures(n: int, seed: int) -> None:
    """The evaluation lab's report cards of the built-in generators (the model cards carry them): the
    standard and held-out prompt sets at n samples per prompt (at most 8), the GAN as many samples."""
    from .adapters.evaluate import evaluate

    runs = [("builtin/shapes-t2i", "text_to_image", "standard"), ("builtin/shapes-t2i", "text_to_image", "heldout"),
            ("builtin/shapes-gan", "gan_interpolation", None)]
    for model, task, prompts in runs:
        folder = settings.BUILTIN_DIR / model.split("/")[1]
        if not folder.exists():
            print(f"{model}: not shipped")
            continue
        began = time.perf_counter()
        per_prompt = min(n, 8)
        result = evaluate(model, task=task, prompts=prompts, samples_per_prompt=per_prompt, seed=seed)
        wall = time.perf_counter() - began
        print(f"evaluate({model!r}, task={task!r}, prompts={prompts!r}, samples_per_prompt={per_prompt}, "
              f"seed={seed}): {len(result.images)} pictures in {wall:.1f} s on {torch.get_num_threads()} threads")
        print("  " + ", ".join(f"{key} {value:.4g}" for key, value in result.metrics.items()))
        print(f"  {result.mode_collapse['verdict']}")


def translation_figures(n: int, seed: int) -> None:
    """The checker on what the built-in translators make of 32·n unseen sketches (their own wobble, the
    2 px pen), through translate_image: all of them, and those of the 4 held-out colour×shape
    combinations alone; CycleGAN's round trip; the speed of one call."""
    from .adapters.translate_image import translate_image
    from .models import registry

    scenes = world.translation_scenes(32 * n, seed)
    drawn = [shapes.sketch(scene) for scene in scenes]
    held = [i for i, scene in enumerate(scenes) if (scene.color, scene.shape) in shapes.HELD_OUT]
    for name in ("builtin/shapes-pix2pix", "builtin/shapes-cyclegan"):
        if not Path(registry.resolve("translate_image", name).source).exists():
            print(f"{name}: not shipped")
            continue
        timings, results = [], []
        for image in drawn:
            began = time.perf_counter()
            results.append(translate_image(image, model=name))
            timings.append(time.perf_counter() - began)
        pictures = [result.images[0] for result in results]
        everything = world.translation_scores(pictures, scenes)
        unseen = world.translation_scores([pictures[i] for i in held], [scenes[i] for i in held])
        print(f"{name}, {len(scenes)} unseen sketches: " + ", ".join(f"{k} {v:.1%}" for k, v in everything.items()))
        print(f"  the {len(held)} of held-out colour×shape combinations: all four right {unseen['all']:.1%}")
        if results[0].cycle is not None:
            cycles = [result.metrics["cycle_psnr"] for result in results]
            print(f"  round trip sketch -> picture -> sketch: PSNR mean {np.mean(cycles):.2f} dB, "
                  f"min {np.min(cycles):.2f}")
        print(f"  translate_image: median {np.median(timings[1:]):.4f} s per call on {torch.get_num_threads()} threads")
