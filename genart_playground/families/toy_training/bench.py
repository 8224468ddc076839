"""The training lab's figures (`python bench/toy_lab.py`, or `bench/quality.py --family toy_training`): each
family's modes covered on the ring at its default budget, over seeds; the collapse preset alone and with each
fix; and the time of one refresh of the page (the steps between two pictures, then the views and the charts)."""

import statistics
import time

import torch

from . import FIXES, TOY_FAMILIES

REFRESH_STEPS = 100  # the page's default steps per refresh


def coverage_figures(seeds: list[int]) -> None:
    from .train_toy import ToyConfig, train

    print(f"| family | modes covered on ring8 at its budget (seeds {seeds[0]}..{seeds[-1]}) | good share | "
          "JS (bits) | minutes |")
    print("| --- | --- | --- | --- | --- |")
    for family in TOY_FAMILIES:
        rows, began = [], time.perf_counter()
        for seed in seeds:
            rows.append(train(ToyConfig(family=family, seed=seed)).measures[-1])
        minutes = (time.perf_counter() - began) / 60 / len(seeds)
        print(f"| {family} | {', '.join(str(r['modes_covered']) for r in rows)} (min {min(r['modes_covered'] for r in rows)}) "
              f"| {statistics.median(r['good_share'] for r in rows):.2f} | {statistics.median(r['js'] for r in rows):.3f} "
              f"| {minutes:.2f} |")


def collapse_figures(seeds: list[int]) -> None:
    from .train_toy import ToyConfig, train

    print("\n| collapse preset | modes covered at the end, per seed | lowest after step 500 | minutes |")
    print("| --- | --- | --- | --- |")
    for fix in (None, *FIXES):
        ends, lows, began = [], [], time.perf_counter()
        for seed in seeds:
            measures = train(ToyConfig(preset="collapse", fix=fix, seed=seed)).measures
            ends.append(measures[-1]["modes_covered"])
            lows.append(min(m["modes_covered"] for m in measures if m["step"] >= 500))
        minutes = (time.perf_counter() - began) / 60 / len(seeds)
        print(f"| {fix or 'no fix'} | {', '.join(map(str, ends))} | {', '.join(map(str, lows))} | {minutes:.2f} |")


def refresh_figures(refreshes: int) -> None:
    """Median seconds of one refresh per family: REFRESH_STEPS steps, then the views, measures and charts."""
    from .toy_lab import toy_lab

    print(f"\n| family | one refresh: {REFRESH_STEPS} steps + views (median of {refreshes}) | steps alone | views alone |")
    print("| --- | --- | --- | --- |")
    for family in TOY_FAMILIES:
        lab = toy_lab([family])
        steps, views = [], []
        for _ in range(refreshes):
            began = time.perf_counter()
            lab.advance(REFRESH_STEPS)
            middle = time.perf_counter()
            lab.views(), lab.charts(), lab.metrics()
            steps.append(middle - began)
            views.append(time.perf_counter() - middle)
        total = statistics.median(s + v for s, v in zip(steps, views))
        print(f"| {family} | {total:.3f} s | {statistics.median(steps):.3f} s | {statistics.median(views):.3f} s |")


def toy_figures(n: int, seed: int, *, refreshes: int = 5) -> None:
    """n seeds from `seed` (at most 5: each run takes seconds to a minute)."""
    print(f"torch threads: {torch.get_num_threads()}")
    seeds = list(range(seed, seed + max(1, min(n, 5))))
    refresh_figures(refreshes)
    coverage_figures(seeds)
    collapse_figures(seeds)
