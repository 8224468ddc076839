"""Out of memory: a clear message, the cache trimmed, the next request served, memory given back.

On CPU the error is injected: the tiny UNet's first call fills 400 MB (as activations would) and
raises torch.OutOfMemoryError. The GPU variant fills a real CUDA device and is skipped without one.
"""

import gc
import weakref

import psutil
import pytest
import torch

from genart_playground import serving

BALLAST_BYTES = 400 * 2**20


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def run_out_of_memory_once(module):
    """The module's next forward fills memory, then fails as a CUDA allocation would."""
    original = module.forward

    def forward(*args, **kwargs):
        del module.forward  # once only
        activations = torch.ones(BALLAST_BYTES // 4)  # touched, so really resident  # noqa: F841
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    module.forward = forward
    return original


def test_out_of_memory_through_the_api(api_client, fresh_cache, tiny_t2i, tiny_gan, tiny_vae):
    from gradio_client.exceptions import AppError

    t2i = ("a red circle", "", tiny_t2i, "model default", 1, None, None, None, None, 0)
    api_client.predict(0, 1, tiny_gan, 2, "slerp", 1.0, api_name="/gan_interpolation")
    gan = weakref.ref(fresh_cache.load("gan_interpolation", tiny_gan))
    api_client.predict(*t2i, api_name="/text_to_image")  # warm: every model and buffer in place
    before = rss()

    run_out_of_memory_once(fresh_cache.load("text_to_image", tiny_t2i).unet)
    with pytest.raises(AppError, match="ran out of memory"):
        api_client.predict(*t2i, api_name="/text_to_image")

    assert list(fresh_cache.loaded()) == [tiny_t2i]  # the other models were evicted
    assert gan() is None  # and really freed
    assert rss() - before < 100 * 2**20  # the 400 MB held by the failed run went back
    gallery, metadata = api_client.predict(*t2i, api_name="/text_to_image")
    assert len(gallery) == 1 and metadata["model"] == tiny_t2i


def test_the_adapter_api_gets_the_same_recovery(fresh_cache, tiny_t2i, tiny_vae):
    from genart_playground import text_to_image

    fresh_cache.load("vae_reconstruction", tiny_vae)
    safe = serving.recover_from_out_of_memory(text_to_image)
    run_out_of_memory_once(fresh_cache.load("text_to_image", tiny_t2i).unet)
    with pytest.raises(serving.OutOfMemory, match="fewer images, a smaller size"):
        safe("a red circle", model=tiny_t2i)
    assert list(fresh_cache.loaded()) == [tiny_t2i]
    assert len(safe("a red circle", model=tiny_t2i).images) == 1


@pytest.mark.parametrize("error, expected", [
    (torch.OutOfMemoryError("CUDA out of memory"), True),
    (RuntimeError("MPS backend out of memory (MPS allocated: 8 GB)"), True),
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"), True),
    (MemoryError(), True),
    (RuntimeError("shapes cannot be multiplied"), False),
    (ValueError("out of memory"), False),  # a message about memory is not running out of it
])
def test_what_counts_as_out_of_memory(error, expected):
    assert serving.is_out_of_memory(error) is expected


def test_other_errors_pass_through_untouched(fresh_cache, tiny_gan):
    fresh_cache.load("gan_interpolation", tiny_gan)

    @serving.recover_from_out_of_memory
    def broken():
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        broken()
    assert list(fresh_cache.loaded()) == [tiny_gan]  # nothing evicted for an ordinary error


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_real_cuda_out_of_memory_is_recovered():
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    free, _ = torch.cuda.mem_get_info()

    @serving.recover_from_out_of_memory
    def greedy():
        held = [torch.empty(free // 2, dtype=torch.uint8, device="cuda")]  # noqa: F841
        return torch.empty(free, dtype=torch.uint8, device="cuda")  # more than is left

    with pytest.raises(serving.OutOfMemory):
        greedy()
    assert torch.cuda.memory_allocated() == before
    assert torch.empty(2**20, device="cuda").numel() == 2**20  # the device serves again
