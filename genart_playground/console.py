"""What the console shows. Library notices about this environment rather than about a request are
dropped, each matched by its own text so that every other warning still shows:

- transformers, on import of a pipeline with an image processor: "`CLIPImageProcessor` requires
  torchvision (not installed); falling back to `CLIPImageProcessorPil`". The Pil class is what this
  project uses (torchvision is not a dependency), so there is nothing to act on.
- A prompt longer than the tokenizer reads: transformers' "Token indices sequence length is longer
  than ..." and diffusers' "The following part of your input was truncated ...". The result's
  warnings say it to the user who asked (diffusion.request_warnings); the console is the server's.
"""

import logging

QUIETED = {  # logger -> fragments of the messages it drops
    "transformers.utils.import_utils": ("requires torchvision (not installed); falling back to",),
    "transformers.tokenization_utils_base": ("Token indices sequence length is longer than",),
}
# diffusers logs from some 300 pipeline modules, each its own logger: filtered at its one handler instead.
QUIETED_HANDLERS = {"diffusers": ("The following part of your input was truncated because",)}


class _DropNotices(logging.Filter):
    def __init__(self, fragments: tuple[str, ...]):
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(fragment in message for fragment in self.fragments)


def _add(filterer, fragments: tuple[str, ...]) -> None:
    if not any(isinstance(f, _DropNotices) for f in filterer.filters):
        filterer.addFilter(_DropNotices(fragments))


def quiet_library_notices() -> None:
    """Install the filters; calling again changes nothing, but for a library's handler made since (diffusers
    makes its own on import: diffusion.py calls this again after importing it)."""
    for name, fragments in QUIETED.items():
        _add(logging.getLogger(name), fragments)
    for name, fragments in QUIETED_HANDLERS.items():
        for handler in logging.getLogger(name).handlers:
            _add(handler, fragments)
