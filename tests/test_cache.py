"""The model cache: one load per model however many ask, LRU eviction under a budget that really frees."""

import gc
import itertools
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from genart_playground.models import loading
from genart_playground.models.cache import ModelCache


def _count_loads(monkeypatch, delay: float = 0.0, before=None):
    """Wrap the real loader: record each model actually built, optionally slowly."""
    real, calls = loading.load, []

    def counting(spec, **kwargs):
        calls.append(spec.name)
        if before is not None:
            before(spec)
        time.sleep(delay)
        return real(spec, **kwargs)

    monkeypatch.setattr(loading, "load", counting)
    return calls


def _load_weakly(cache: ModelCache, task: str, name: str):
    """Load, and keep only weak references: to the model and to one of its weight tensors."""
    model = cache.load(task, name)
    module = getattr(model, "unet", model)
    return weakref.ref(model), weakref.ref(next(module.parameters()))


# --- one load ------------------------------------------------------------------------------------

def test_many_calls_load_once(fresh_cache, tiny_vae, monkeypatch):
    calls = _count_loads(monkeypatch)
    models = [fresh_cache.load("vae_reconstruction", tiny_vae) for _ in range(10)]
    assert all(model is models[0] for model in models)
    assert fresh_cache.loads == 1 and calls == [tiny_vae]
    assert list(fresh_cache.loaded()) == [tiny_vae]


def test_the_default_name_and_the_explicit_name_share_one_load(fresh_cache, tiny_gan, monkeypatch):
    from genart_playground.models import registry

    monkeypatch.setitem(registry.DEFAULT_MODELS, "gan_interpolation", tiny_gan)
    assert fresh_cache.load("gan_interpolation") is fresh_cache.load("gan_interpolation", tiny_gan)
    assert fresh_cache.loads == 1


def test_eight_threads_wait_for_a_single_load(fresh_cache, tiny_t2i, monkeypatch):
    calls = _count_loads(monkeypatch, delay=0.3)  # wide enough that every thread arrives mid-load
    start = threading.Barrier(8)

    def request(_):
        start.wait(timeout=10)
        return fresh_cache.load("text_to_image", tiny_t2i)

    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(request, range(8)))
    assert all(model is models[0] for model in models)
    assert calls == [tiny_t2i]
    assert fresh_cache.loads == 1


def test_different_models_requested_at_once_all_load_correctly(tiny_t2i, tiny_hub_t2i, tiny_vae, tiny_taesd,
                                                               tiny_gan):
    """diffusers/transformers builds are not thread-safe (meta-device patching is global): two models
    built at once came out with meta weights before loading.load serialised builds."""
    requests = [("text_to_image", tiny_t2i), ("text_to_image", tiny_hub_t2i), ("vae_reconstruction", tiny_vae),
                ("vae_reconstruction", tiny_taesd), ("gan_interpolation", tiny_gan)]
    for _ in range(2):
        cache = ModelCache()
        start = threading.Barrier(len(requests))

        def request(task_and_name):
            start.wait(timeout=10)
            return cache.load(*task_and_name)

        with ThreadPoolExecutor(len(requests)) as pool:
            models = list(pool.map(request, requests))
        assert cache.loads == len(requests)
        for model in models:
            modules = [m for m in getattr(model, "components", {}).values() if isinstance(m, torch.nn.Module)]
            for module in modules or [model]:
                assert all(p.device.type != "meta" for p in module.parameters())
        cache.clear()


def test_a_failed_load_is_not_cached(fresh_cache, tiny_vae, monkeypatch):
    real, failures = loading.load, [RuntimeError("disk hiccup")]

    def flaky(spec, **kwargs):
        if failures:
            raise failures.pop()
        return real(spec, **kwargs)

    monkeypatch.setattr(loading, "load", flaky)
    with pytest.raises(RuntimeError, match="disk hiccup"):
        fresh_cache.load("vae_reconstruction", tiny_vae)
    assert fresh_cache.loaded() == {} and fresh_cache.loads == 0
    assert fresh_cache.load("vae_reconstruction", tiny_vae) is fresh_cache.load("vae_reconstruction", tiny_vae)
    assert fresh_cache.loads == 1


# --- memory budget -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sizes(tiny_t2i, tiny_vae, tiny_taesd):
    """Bytes each tiny model takes in the cache, measured by loading it once."""
    probe = ModelCache()
    for task, name in [("text_to_image", tiny_t2i), ("vae_reconstruction", tiny_vae), ("vae_reconstruction", tiny_taesd)]:
        probe.load(task, name)
    sizes = probe.loaded()
    probe.clear()
    return sizes


def test_the_least_recently_used_model_is_evicted_over_budget(tiny_vae, tiny_taesd, sizes):
    cache = ModelCache(budget_bytes=max(sizes[tiny_vae], sizes[tiny_taesd]))  # room for one of the two
    cache.load("vae_reconstruction", tiny_vae)
    cache.load("vae_reconstruction", tiny_taesd)
    assert list(cache.loaded()) == [tiny_taesd]
    cache.load("vae_reconstruction", tiny_vae)
    assert list(cache.loaded()) == [tiny_vae]
    assert cache.loads == 3


def test_use_refreshes_a_model_so_the_older_one_goes(tiny_t2i, tiny_vae, tiny_taesd, sizes):
    largest_pair = max(sizes[a] + sizes[b] for a, b in itertools.combinations(sizes, 2))
    assert largest_pair < sum(sizes.values())
    cache = ModelCache(budget_bytes=largest_pair)  # any two fit, three do not
    cache.load("vae_reconstruction", tiny_vae)
    cache.load("vae_reconstruction", tiny_taesd)
    cache.load("vae_reconstruction", tiny_vae)  # now tiny_taesd is the least recently used
    cache.load("text_to_image", tiny_t2i)
    assert list(cache.loaded()) == [tiny_vae, tiny_t2i]
    assert sum(cache.loaded().values()) <= cache.budget_bytes
    assert cache.loads == 3


def test_a_model_larger_than_the_budget_is_still_served(tiny_vae, sizes):
    cache = ModelCache(budget_bytes=sizes[tiny_vae] // 2)
    model = cache.load("vae_reconstruction", tiny_vae)
    assert cache.load("vae_reconstruction", tiny_vae) is model and cache.loads == 1


@pytest.mark.parametrize("evict", ["budget", "evict", "clear"])
def test_eviction_really_frees_the_model(tiny_t2i, tiny_vae, sizes, evict):
    cache = ModelCache(budget_bytes=max(sizes.values()) if evict == "budget" else 0)
    model_ref, weight_ref = _load_weakly(cache, "text_to_image", tiny_t2i)
    assert model_ref() is not None
    if evict == "budget":
        cache.load("vae_reconstruction", tiny_vae)
    elif evict == "evict":
        assert cache.evict(tiny_t2i) is True
        assert cache.evict(tiny_t2i) is False
    else:
        cache.clear()
    gc.collect()
    assert tiny_t2i not in cache.loaded()
    holders = [type(r).__name__ for r in gc.get_referrers(model_ref())] if model_ref() is not None else []
    assert model_ref() is None, f"the evicted pipeline is still held by {holders}"
    assert weight_ref() is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_eviction_returns_gpu_memory(tiny_t2i):
    cache = ModelCache()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    pipe = cache.load("text_to_image", tiny_t2i)
    held = torch.cuda.memory_allocated() - before
    assert pipe.device.type == "cuda" and held >= loading.module_bytes(pipe)
    del pipe
    cache.evict(tiny_t2i)
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() - before < held / 10


# --- what lives beside a model: the diffusion runtime ------------------------------------------------

def test_the_image_to_image_sibling_shares_the_parents_weights(fresh_cache, tiny_t2i):
    from diffusers import StableDiffusionImg2ImgPipeline

    from genart_playground import diffusion

    parent = fresh_cache.load("text_to_image", tiny_t2i)
    first = diffusion.runtime(parent).image_to_image()
    again = diffusion.runtime(fresh_cache.load("text_to_image", tiny_t2i)).image_to_image()
    assert again is first
    assert isinstance(first, StableDiffusionImg2ImgPipeline)
    assert first.unet is parent.unet and first.vae is parent.vae and first.text_encoder is parent.text_encoder
    assert fresh_cache.loads == 1
    assert fresh_cache.loaded() == {tiny_t2i: loading.module_bytes(parent)}  # no second copy counted


def test_the_runtime_is_dropped_with_its_pipeline(fresh_cache, tiny_t2i):
    from genart_playground import diffusion

    rt = diffusion.runtime(fresh_cache.load("text_to_image", tiny_t2i))
    sibling_ref, runtime_ref = weakref.ref(rt.image_to_image()), weakref.ref(rt)
    del rt
    fresh_cache.evict(tiny_t2i)
    gc.collect()
    assert sibling_ref() is None and runtime_ref() is None
    # Loading the pipeline again gives a new runtime, with a lock and a sibling of its own.
    rt = diffusion.runtime(fresh_cache.load("text_to_image", tiny_t2i))
    assert rt.image_to_image().unet is rt.pipe.unet
    assert fresh_cache.loads == 2


# --- models built on other models -------------------------------------------------------------------

def test_a_model_loads_the_models_it_requires_first(fresh_cache, tiny_vae, tiny_gan, tmp_path):
    from genart_playground.models import registry

    base = registry.resolve("gan_interpolation", tiny_gan)
    spec = registry.register(registry.ModelSpec("tests/needs-vae", "gan_interpolation", "gan-generator", base.source,
                                                requires=(tiny_vae,)))
    missing = registry.register(registry.ModelSpec("tests/needs-gone", "gan_interpolation", "gan-generator",
                                                   base.source, requires=("tests/gone-vae",)))
    gone = registry.register(registry.ModelSpec("tests/gone-vae", "vae_reconstruction", "autoencoder",
                                                str(tmp_path / "gone")))
    try:
        assert loading.availability(spec) == "local" and loading.availability(missing) == "missing"
        fresh_cache.load("gan_interpolation", spec.name)
        assert list(fresh_cache.loaded()) == [tiny_vae, spec.name]  # the requirement first
    finally:
        for name in (spec.name, missing.name, gone.name):
            fresh_cache.evict(name)
            registry.unregister(name)
