"""What a shared server needs around each request: out-of-memory recovery and cancellation.

Gradio-free: the UI (ui/errors.py, ui/progress_bar.py) maps these to what the user sees, and a script serving the
adapters some other way can use them too.
"""

import ctypes
import ctypes.util
import functools
import logging
import sys

logger = logging.getLogger(__name__)

OUT_OF_MEMORY = ("The model ran out of memory on this server. It has freed what it could, so you can try again; "
                 "fewer images, a smaller size or fewer frames need less memory.")


class OutOfMemory(RuntimeError):
    """A request needed more memory than the device had; the cache has been trimmed since."""


class Cancelled(Exception):
    """The user cancelled the request. A progress callback raises it to stop an adapter between steps."""


def is_out_of_memory(error: BaseException) -> bool:
    torch = sys.modules.get("torch")  # torch's own error means torch is loaded: the UI never loads it for this
    if isinstance(error, MemoryError) or (torch is not None and isinstance(error, torch.OutOfMemoryError)):
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


def _load_glibc(name: str):
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None  # not glibc (macOS, musl): nothing to do


_malloc_trim = _load_glibc("malloc_trim")
_mallopt = _load_glibc("mallopt")
_M_ARENA_MAX = -8  # glibc's mallopt parameter number for the arena limit
SERVER_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Few malloc arenas for the server's many worker threads (glibc only); call before they start.

    glibc gives each allocating thread an arena of its own, up to 8 per core, and each keeps its own
    fragments between requests: with Gradio's pool of workers, and the style tab's worker thread,
    resident memory crept up by 3-5 % over 200 requests. Model work runs one request at a time (the
    "gpu" queue), so two arenas cost no waiting (bench/load_test.py --models tiny: growth 1.3-1.7 %
    against 3.0-4.0 %, throughput unchanged).
    """
    if _mallopt is not None:
        _mallopt(_M_ARENA_MAX, SERVER_ARENAS)


def return_freed_memory() -> None:
    """Hand memory freed by the last request back to the system (glibc only).

    Each of Gradio's worker threads allocates from its own malloc arena, and a freed tensor's pages
    stay in that arena; over a few hundred requests a server's resident memory creeps up by a
    fifth without holding anything more (measured by bench/load_test.py). malloc_trim releases
    those free pages; it takes well under a millisecond.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)
