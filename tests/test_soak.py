"""Load and soak (issue 6 §7): bench/load_test.py's run on tiny models, its criteria asserted.

The benchmark runs as it does from the command line, in a process of its own, and its server in a
child of that, so the server's memory is measured alone, with its own temporary folder, and its 20
clients share no interpreter with this test session (whose own served app and clients would slow
them). 20 clients send 200 requests (after a 40-request warm-up) across all four tabs: every
request is answered and succeeds, none is lost, the server's memory after the warm-up grows less
than 5 %, and Gradio's temporary folder falls back once delete_cache has run.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a 20-client load test against a server of its own

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import load_test  # noqa: E402

# Short, so the test sees delete_cache work, but longer than any request waits in the queue
# (about 5 s here): an upload deleted before its turn would fail the request.
DELETE_CACHE_AGE = 10


def test_twenty_clients_two_hundred_requests(capsys, tmp_path):
    saved = tmp_path / "summary.json"
    subprocess.run([sys.executable, str(BENCH / "load_test.py"), "--models", "tiny", "--clients", "20",
                    "--requests", "200", "--warmup", "40", "--delete-cache-age", str(DELETE_CACHE_AGE),
                    "--save", str(saved)], stdout=subprocess.DEVNULL, timeout=900)  # exit 1: a check failed
    summary = json.loads(saved.read_text())
    with capsys.disabled():
        print(f"\nsoak: {summary['throughput_per_s']} req/s, p50 {summary.get('p50_s')} s, "
              f"p90 {summary.get('p90_s')} s, p99 {summary.get('p99_s')} s, server memory "
              f"{summary['rss_growth_pct']:+} %, temp {summary['temp_peak_kb']} KB peak -> "
              f"{summary['temp_settled_kb']} KB")
    assert summary["requests"] == 200 and summary["lost"] == 0
    assert summary["ok"] == 200, summary["errors"]
    assert set(summary["per_tab_p50_s"]) == set(load_test.tabs())  # all four tabs were served
    assert summary["rss_growth_pct"] < 5.0, summary["rss_by_tenth_mb"]
    assert summary["checks"]["temporary folder bounded"], summary
    assert summary["temp_settled_kb"] < summary["temp_peak_kb"]  # delete_cache did remove files


def test_delete_cache_pass_survives_files_added_while_it_runs(tmp_path, monkeypatch):
    # Gradio 6.31's own pass raises "Set changed size during iteration" when a request adds a file
    # while it runs, and that ends its schedule for good; the app installs its own pass instead.
    import os
    import time
    from types import SimpleNamespace

    import pytest
    from gradio import route_utils

    from genart_playground.ui import gradio_internals, output_files

    assert route_utils.delete_files_created_by_app is gradio_internals.delete_files_created_by_app

    def make_blocks():
        paths = [tmp_path / f"old{i}.png" for i in range(3)] + [tmp_path / "kept.png"]
        for path in paths:
            path.write_bytes(b"x")
        return paths, SimpleNamespace(blocks={0: SimpleNamespace(keep_in_cache={str(paths[-1])})},
                                      temp_file_sets=[{str(p) for p in paths}])

    def remove_while_a_request_adds(path):
        new = tmp_path / f"new{len(added)}.png"
        new.write_bytes(b"x")
        added.append(new)
        live.add(str(new))  # a request finishing on another thread, mid-pass
        remove(path)

    remove = os.remove
    monkeypatch.setattr(os, "remove", remove_while_a_request_adds)
    for delete, should_fail in ((output_files._gradio_delete_files_created_by_app, True),
                                (gradio_internals.delete_files_created_by_app, False)):
        added = []
        paths, blocks = make_blocks()
        live = blocks.temp_file_sets[0]
        time.sleep(1.1)
        if should_fail:
            with pytest.raises(RuntimeError, match="changed size during iteration"):
                delete(blocks, 1)
            continue
        delete(blocks, 1)
        assert [p.exists() for p in paths] == [False, False, False, True]  # old ones gone, kept one kept
        assert all(p.exists() and str(p) in live for p in added)  # files added meanwhile are left for later
