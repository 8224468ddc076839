"""What a shared server needs around each request: out-of-memory recovery and cancellation.

Gradio-free: the UI (ui/common.py) maps these to what the user sees, and a script serving the
adapters some other way can use them too.
"""

import ctypes
import ctypes.util
import functools
import logging

import torch

logger = logging.getLogger(__name__)

OUT_OF_MEMORY = ("The model ran out of memory on this server. It has freed what it could, so you can try again; "
                 "fewer images, a smaller size or fewer frames need less memory.")


class OutOfMemory(RuntimeError):
    """A request needed more memory than the device had; the cache has been trimmed since."""


class Cancelled(Exception):
    """The user cancelled the request. A progress callback raises it to stop an adapter between steps."""


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    # MPS and the CPU allocator report running out as a plain RuntimeError.
    text = str(error).lower() if isinstance(error, RuntimeError) else ""
    return "out of memory" in text or "can't allocate memory" in text


def release_memory() -> None:
    """After an out-of-memory error: keep only the model in use, then hand freed blocks back."""
    from .models.cache import cache

    evicted = cache.shrink(keep=1)
    logger.warning("out of memory: evicted %s from the model cache", ", ".join(evicted) or "nothing")


def recover_from_out_of_memory(fn):
    """Run `fn`; an out-of-memory error becomes `OutOfMemory` with a message for the user, after
    the cache has freed memory, so the next request can succeed."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            if not is_out_of_memory(error):
                raise
        # Outside the `except`: the error's traceback holds the frames, and with them the
        # activations, that filled the memory; they are gone once the block ends.
        release_memory()
        raise OutOfMemory(OUT_OF_MEMORY)
    return wrapper


def _load_malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (macOS, musl): nothing to do


_malloc_trim = _load_malloc_trim()


def return_freed_memory() -> None:
    """Hand memory freed by the last request back to the system (glibc only).

    Each of Gradio's worker threads allocates from its own malloc arena, and a freed tensor's pages
    stay in that arena; over a few hundred requests a server's resident memory creeps up by a
    fifth without holding anything more (measured by bench/load_test.py). malloc_trim releases
    those free pages; it takes well under a millisecond.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)
