"""What the console shows. Library notices about this environment rather than about a request are
dropped, each matched by its own text so that every other warning still shows:

- transformers, on import of a pipeline with an image processor: "`CLIPImageProcessor` requires
  torchvision (not installed); falling back to `CLIPImageProcessorPil`". The Pil class is what this
  project uses (torchvision is not a dependency), so there is nothing to act on.
"""

import logging

QUIETED = {
    "transformers.utils.import_utils": ("requires torchvision (not installed); falling back to",),
}


class _DropNotices(logging.Filter):
    def __init__(self, fragments: tuple[str, ...]):
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(fragment in message for fragment in self.fragments)


def quiet_library_notices() -> None:
    """Install the filters (once; calling again changes nothing)."""
    for name, fragments in QUIETED.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNotices) for f in logger.filters):
            logger.addFilter(_DropNotices(fragments))
