"""The console of `python app.py` (issue 14 §5): no traceback for input the app refuses, and no library
notice about this environment (transformers' torchvision fallback) on loading a model."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.server
def test_refused_input_prints_no_traceback(api_client, capfd):
    from gradio_client.exceptions import AppError

    capfd.readouterr()
    refusals = [((3, 4, "builtin/shapes-gan", 10**6, "slerp", 1.0), "/gan_interpolation", "greater than maximum"),
                ((3, 4, "nope/nope", 4, "slerp", 1.0), "/gan_interpolation", "not in the registry"),
                ((3, 4, "builtin/shapes-gan", 4, "teleport", 1.0), "/gan_interpolation", "method|Path")]
    for args, api_name, message in refusals:
        with pytest.raises(AppError, match=message):
            api_client.predict(*args, api_name=api_name)
    printed = capfd.readouterr()
    assert "Traceback" not in printed.out + printed.err, (printed.out + printed.err)[-3000:]


def test_the_torchvision_fallback_notice_is_dropped_and_other_warnings_are_not():
    import genart_playground  # noqa: F401  (installs the filters)

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__()
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    logger, collect = logging.getLogger("transformers.utils.import_utils"), Collect()
    logger.addHandler(collect)  # a logger's filters run before any of its handlers sees a record
    try:
        logger.warning("`CLIPImageProcessor` requires torchvision (not installed); falling back to `X`.")
        logger.warning("something else went wrong")
    finally:
        logger.removeHandler(collect)
    assert collect.messages == ["something else went wrong"]


def test_loading_the_builtin_pipeline_prints_no_library_notice():
    code = ("from genart_playground.models.cache import cache\n"
            "cache.load('text_to_image', 'builtin/shapes-t2i')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    for notice in ("requires torchvision", "torch_dtype", "deprecated"):
        assert notice not in done.stderr, done.stderr[-2000:]
