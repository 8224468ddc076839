"""Model switching: with a memory budget that holds one model, A→B→A five times stays bounded,
and the model switched away from is really gone (no reference left anywhere)."""

import gc
import weakref

import psutil
import pytest
import torch

from genart_playground import gan_interpolation, text_to_image
from genart_playground.models import registry

pytestmark = pytest.mark.slow  # loads and switches between the shipped models

SWITCHES = 5


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


@pytest.fixture(scope="module")
def two_gans(tmp_path_factory):
    """Two 30 MB generators: big enough that keeping a stale one would show in the process's memory."""
    from genart_playground.families.gan_interpolation.dcgan import Generator

    names = []
    for seed, name in enumerate(["tests/switch-gan-a", "tests/switch-gan-b"]):
        folder = tmp_path_factory.mktemp("switch") / name.split("/")[-1]
        torch.manual_seed(seed)
        Generator(latent_dim=64, width=96, image_size=64).save_pretrained(folder)
        names.append(registry.register(registry.ModelSpec(name, "gan_interpolation", "gan-generator", str(folder))).name)
    yield names
    for name in names:
        registry.unregister(name)


def test_switching_gans_keeps_one_in_memory(fresh_cache, two_gans):
    a, b = two_gans
    fresh_cache.load("gan_interpolation", a)
    fresh_cache.budget_bytes = fresh_cache.loaded()[a] * 3 // 2  # one model fits, two do not
    peaks, gone = [], []
    try:
        for _ in range(SWITCHES):
            for name in (b, a):
                previous = weakref.ref(fresh_cache.load("gan_interpolation", b if name == a else a))
                gan_interpolation(0, 1, model=name, frames=2)
                gone.append(previous() is None)
                assert list(fresh_cache.loaded()) == [name]
            peaks.append(rss())
    finally:
        fresh_cache.budget_bytes = 0
    assert all(gone), gone
    assert fresh_cache.loads == 1 + 2 * SWITCHES
    # A model left behind per switch would add ~30 MB each time; allow noise, not one model. Measured from
    # the end of the first round: the allocator's own arenas grow by up to ~20 MB in it, once (seen under load).
    assert max(peaks[1:]) - peaks[1] < 20 * 2**20, [p // 2**20 for p in peaks]


def test_switching_pipelines_leaves_nothing_of_the_old_one(fresh_cache, tiny_t2i, tiny_hub_t2i):
    # The cache keeps derived objects (a run lock, the original scheduler) beside each pipeline:
    # none of them may keep an evicted pipeline alive.
    fresh_cache.load("text_to_image", tiny_t2i)
    fresh_cache.budget_bytes = fresh_cache.loaded()[tiny_t2i] * 3 // 2
    try:
        for _ in range(SWITCHES):
            for new, old in ((tiny_hub_t2i, tiny_t2i), (tiny_t2i, tiny_hub_t2i)):
                previous = weakref.ref(fresh_cache.load("text_to_image", old))
                text_to_image("a red circle", model=new, steps=1)  # evicting `old` ran gc.collect
                assert previous() is None, f"{old} is still referenced after switching to {new}"
                assert list(fresh_cache.loaded()) == [new]
    finally:
        fresh_cache.budget_bytes = 0
