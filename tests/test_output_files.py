"""The app's own output files (GIFs, MP4s, step pictures) are deleted once they are old, without
the folder being listed at every file written."""

import os
import time

from genart_playground.ui import output_files


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_old_outputs_are_swept_at_most_once_per_tenth_of_their_age(monkeypatch):
    monkeypatch.setattr(output_files, "OUTPUT_KEEP_SECONDS", 100)
    old = output_files.write_output(b"old", ".gif")
    _age(old, 101)
    monkeypatch.setattr(output_files, "_last_sweep", 0.0)
    fresh = output_files.write_output(b"fresh", ".gif")  # sweeps (the last sweep was long ago)
    assert not os.path.exists(old) and os.path.exists(fresh)

    stale = output_files.write_output(b"stale", ".gif")
    _age(stale, 101)
    output_files.write_output(b"next", ".gif")  # within 10 s of the last sweep: no listing
    assert os.path.exists(stale)
    monkeypatch.setattr(output_files, "_last_sweep", time.time() - 11)
    output_files.write_output(b"later", ".gif")
    assert not os.path.exists(stale)
