"""Playground overheads, side by side in one run (issue 3 §6). Prints medians and ratios.

    python bench/bench_playground.py [--model NAME] [--repeats 5]

1. App start to first HTTP 200: `python app.py` against a bare gr.Blocks app.
2. text_to_image adapter against calling the same loaded diffusers pipeline directly (target ≤ 1.05).
3. First call (load included) against a cached call.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_first_200(script: Path, timeout: float = 120.0) -> float:
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"{script.name} did not answer within {timeout} s")
    finally:
        process.terminate()
        process.wait(timeout=30)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_adapter(model: str | None, repeats: int) -> None:
    from genart_playground import diffusion, text_to_image
    from genart_playground.devices import make_generator
    from genart_playground.models import registry
    from genart_playground.models.cache import cache

    spec = registry.resolve("text_to_image", model)
    prompt = "a red circle on the left on a white background"

    start = time.perf_counter()
    result = text_to_image(prompt, model=spec.name, seed=0)
    first = time.perf_counter() - start
    cached = median_time(lambda: text_to_image(prompt, model=spec.name, seed=0), repeats)

    meta = result.metadata
    pipe = cache.load("text_to_image", spec.name)
    # The scheduler the adapter builds for this run, from the pipeline's original one.
    pipe.scheduler = diffusion.runtime(pipe).make_scheduler(spec.defaults.get("scheduler"), spec.defaults)

    def direct():
        pipe(prompt=prompt, num_inference_steps=meta["steps"], guidance_scale=meta["guidance"],
             width=meta["width"], height=meta["height"], generator=[make_generator(0)], output_type="np")

    # Interleave so drift in machine load hits both sides alike.
    adapter_times, direct_times = [], []
    for _ in range(repeats):
        adapter_times.append(median_time(lambda: text_to_image(prompt, model=spec.name, seed=0), 1))
        direct_times.append(median_time(direct, 1))
    a, d = statistics.median(adapter_times), statistics.median(direct_times)
    print(f"text_to_image ({spec.name}, {meta['steps']} steps, {meta['width']}×{meta['height']}):")
    print(f"  adapter {a * 1000:8.1f} ms   direct pipeline {d * 1000:8.1f} ms   ratio {a / d:.3f} (target ≤ 1.05)")
    print(f"  first call {first:8.2f} s   cached call {cached:8.2f} s   ratio {first / cached:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="text-to-image model (default: the configured default)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, medians of {args.repeats} runs")
    if not args.skip_startup:
        app = statistics.median(time_to_first_200(ROOT / "app.py") for _ in range(args.repeats))
        bare = statistics.median(time_to_first_200(ROOT / "bench" / "bare_app.py") for _ in range(args.repeats))
        print("start to first HTTP 200:")
        print(f"  app.py {app:6.2f} s   bare gr.Blocks {bare:6.2f} s   ratio {app / bare:.2f}")
    bench_adapter(args.model, args.repeats)


if __name__ == "__main__":
    main()
