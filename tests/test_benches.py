"""Every script in bench/ still runs: each is run as from the command line, at small settings, and must
print its figures. A refactor that breaks a bench fails here instead of on the next person who measures.

The figures themselves are not checked (they are timings on a shared machine); that the script got to
print each of them is.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench"
NUMBER = r"[0-9]+(?:\.[0-9]+)?"

# script -> (its small settings, what its output must show); None: run by another test, named there.
SMOKE = {
    "bench_playground.py": (["--repeats", "1"], [
        rf"app\.py +{NUMBER} s +bare gr\.Blocks +{NUMBER} s +ratio {NUMBER}",
        rf"adapter +{NUMBER} ms +direct pipeline +{NUMBER} ms +ratio {NUMBER}",
        rf"first call +{NUMBER} s +cached call +{NUMBER} s"]),
    "evaluation.py": (["--runs", "1", "--pictures", "8", "--samples", "1", "--threads", "1"], [
        r"\| renders \(another sample of the world\) \|( [-0-9.e+]+ \|){8}",
        rf"evaluate\(builtin/shapes-t2i, standard set, 1 per prompt\): 20 pictures, median {NUMBER} s",
        rf"evaluate_images\(80 pictures\): median {NUMBER} s"]),
    "hostile.py": (["--sockets", "10", "--uploads", "4"], [
        r"\| 8\. a 200 MB JSON body \| 413", r"\| normal request afterwards \| 200",
        r"\| 2\. POST /gradio_api/run/text_to_image \| .+ \| 404", r"\| 4\. unfinished 4 MB bodies \| .+ 10 × 408",
        r"\| 6\. a 4 MB body of a million empty lists \| .+ \| 413", r"\| normal request at the end \| \| 200"]),
    "quality.py": (["--family", "gan_interpolation", "--n", "1", "--threads", "1"], [
        rf"builtin/shapes-gan: {NUMBER}% of 64 samples are one clean shape",
        rf"builtin/shapes-stylegan: {NUMBER}% of 64 samples are one clean shape"]),
    "training_step.py": (["--steps", "12", "--repeats", "1", "--threads", "1"], [
        rf"NCHW: +{NUMBER} ms a step", rf"channels_last: +{NUMBER} ms a step", rf"channels_last / NCHW: {NUMBER}"]),
    "toy_lab.py": (["--seeds", "1", "--refreshes", "1", "--only", "refresh"], [
        rf"\| gan \| {NUMBER} s \| {NUMBER} s \| {NUMBER} s \|", rf"\| flow_matching \| {NUMBER} s \|"]),
    "distributed_training.py": (["--steps", "8", "--batch_size", "8", "--width", "8", "--warmup", "2"], [
        rf"\| 1 \| {NUMBER} \| {NUMBER} \|", rf"\| 2 \| {NUMBER} \| {NUMBER} \|", rf"2 processes / 1: {NUMBER}×"]),
    "distributed_worker.py": None,  # tests/test_distributed.py and distributed_training.py start it under torchrun
    "load_test.py": None,  # tests/test_soak.py runs it with 20 clients and asserts its criteria
    "bare_app.py": None,  # bench_playground.py starts it beside app.py
}


def test_every_bench_script_has_a_smoke_run():
    assert {path.name for path in BENCH.glob("*.py")} == set(SMOKE)


@pytest.mark.parametrize("script", [name for name, run in SMOKE.items() if run is not None])
def test_bench_script_runs_and_prints_its_figures(script):
    arguments, expected = SMOKE[script]
    done = subprocess.run([sys.executable, str(BENCH / script), *arguments], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    for pattern in expected:
        assert re.search(pattern, done.stdout), f"{script} did not print /{pattern}/:\n{done.stdout[-3000:]}"
