"""A tab's handlers bound to the functions the app gives it."""

import functools
import inspect

from .zero_gpu import gpu


def package_functions(family) -> dict:
    """A family's functions by api name, imported on first call (the UI modules import no torch)."""
    def lazy(name):
        def call(*args, **kwargs):
            import genart_playground as gp

            return getattr(gp, name)(*args, **kwargs)
        return call
    return {name: lazy(name) for name in family.api}


def bind(handler, run: dict, *, seconds=None):
    """`handler(run, *inputs)` as the event function `fn(*inputs)` that Gradio calls, with the same
    signature less `run` (Gradio reads it for the inputs and gr.Progress), generator or not; on a
    ZeroGPU Space it asks for `seconds(*inputs)` of GPU time."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def bound(*args, **kwargs):
            yield from handler(run, *args, **kwargs)
    else:
        @functools.wraps(handler)
        def bound(*args, **kwargs):
            return handler(run, *args, **kwargs)
    signature = inspect.signature(handler)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    return gpu(seconds)(bound) if seconds is not None else bound
