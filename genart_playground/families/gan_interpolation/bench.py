"""The built-in generators' figures, as `bench/quality.py` prints them (the family's `bench`): the checker's
readings, the walks' smoothness, perceptual path length, speed, and what style mixing's layers control."""

import time

import numpy as np


GAN_BUILTINS = ("builtin/shapes-gan", "builtin/shapes-stylegan")


def gan_figures(n: int, seed: int) -> None:
    """Per built-in generator: the checker's figures on 64·n samples, the walks' smoothness (in Z, and in
    W for a StyleGAN), the perceptual path length, the tab's speed; then what style mixing's layers control."""
    from ...metrics import walks
    from ...models.cache import cache
    from . import train_gan

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
    from .gan_interpolation import gan_interpolation

    timings = []
    for _ in range(8):  # the first call may load the generator into the cache
        began = time.perf_counter()
        gan_interpolation(0, 1, model=model, frames=frames)
        timings.append(time.perf_counter() - began)
    print(f"  gan_interpolation(0, 1, frames={frames}) with the GIF: median {np.median(timings[1:]):.3f} s "
          f"(of {len(timings) - 1}, after a first call of {timings[0]:.2f} s)")


def mixing_figures(rows: int = 8, columns: int = 8) -> None:
    """What each crossover of builtin/shapes-stylegan hands to the coarse seed, over a rows × columns grid."""
    from .style_mixing import style_mixing

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
