"""A bounded load test on loopback (issue 6 §7): many clients, every tab, nothing lost.

    python bench/load_test.py [--models tiny|builtin] [--clients 20] [--requests 200] [--save FILE]

The server runs in a child process (its memory is measured alone) with its temporary folder
(TMPDIR, so Gradio's cache and the app's outputs) in a fresh folder and Gradio's `delete_cache`
at --delete-cache-age seconds. After a warm-up round, --clients gradio_client clients send
--requests requests in all, spread over the four tabs. It prints throughput and latency
percentiles and checks the criteria: every request answered and none lost, server memory after
warm-up grows less than 5 %, the temporary folder stays bounded (back near its warm-up size once
`delete_cache` has run). `tests/test_soak.py` runs the same functions in-process on tiny models.

--models tiny builds tiny random models (those of tests/conftest.py: the load, not the pictures,
is under test); --models builtin uses the configured defaults (the trained built-ins).
"""

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from genart_playground import families  # noqa: E402  (light: no torch, no gradio)
from genart_playground.families.base import IMAGE, MODEL  # noqa: E402



def loaded_families() -> list:
    """Every family with an example call is part of the load, through its tab's endpoint (one added at run
    time too)."""
    return [family for family in families.FAMILIES if family.example is not None and family.example.endpoint]


def tabs() -> tuple[str, ...]:
    return tuple(family.id for family in loaded_families())

BUSY = "busy"


# Workload ------------------------------------------------------------------------------------

def make_picture(path: Path, seed: int) -> str:
    """A small random RGB picture. Each request gets its own: Gradio's cache keeps one file per
    content hash, and `delete_cache` may remove an old file while a new request, whose identical
    input or output maps to it, is still reading or serving it."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(path)
    return str(path)


def make_workload(n: int, models: dict[str, str | None], folder: Path):
    """n requests, (api_name, args), cycling through the families' example calls (families/*.py); their
    seeds and pictures change every time, so no two outputs are the same file."""
    from gradio_client import handle_file

    loaded = loaded_families()
    requests = []
    for i in range(n):
        family = loaded[i % len(loaded)]
        args = []
        for position, value in enumerate(family.example.endpoint):
            if value == MODEL:
                value = models[family.id]
            elif value == IMAGE:
                value = handle_file(make_picture(folder / f"{i}-{position}.png", 2 * i + position))
            elif position == family.example.seed_input:
                value = i
            args.append(value)
        requests.append((family.id, tuple(args)))
    return requests


# Clients -------------------------------------------------------------------------------------

def connect(url: str, n: int, download_dir: Path) -> list:
    """n gradio_clients, made one after another: each fetches the app's API description first,
    and twenty of those at once would time out on a busy two-core machine."""
    from gradio_client import Client

    return [Client(url, verbose=False, analytics_enabled=False, download_files=str(download_dir / str(k)))
            for k in range(n)]


def run_load(clients: list, requests, *, timeout: float = 300.0) -> list[dict]:
    """Send `requests` from one thread per client; one record per request: tab, seconds, and
    "ok", BUSY (the queue was full) or the error's text."""
    from gradio_client.utils import QueueError

    todo = queue.SimpleQueue()
    for index, request in enumerate(requests):
        todo.put((index, request))
    records: list[dict | None] = [None] * len(requests)

    def client_loop(client) -> None:
        while True:
            try:
                index, (tab, args) = todo.get_nowait()
            except queue.Empty:
                return
            start = time.perf_counter()
            try:
                client.predict(*args, api_name=f"/{tab}")
                outcome = "ok"
            except QueueError:
                outcome = BUSY
            except Exception as error:  # noqa: BLE001 (every answer is recorded, none is lost)
                outcome = f"{type(error).__name__}: {error}"
            records[index] = {"tab": tab, "seconds": time.perf_counter() - start, "outcome": outcome}

    threads = [threading.Thread(target=client_loop, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    lost = [i for i, record in enumerate(records) if record is None]
    for i in lost:  # still unanswered after the timeout
        records[i] = {"tab": requests[i][0], "seconds": timeout, "outcome": "lost"}
    return records


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]  # nearest rank


def summarise(records: list[dict], wall_seconds: float) -> dict:
    ok = [r["seconds"] for r in records if r["outcome"] == "ok"]
    summary = {
        "requests": len(records), "ok": len(ok),
        "busy": sum(r["outcome"] == BUSY for r in records),
        "lost": sum(r["outcome"] == "lost" for r in records),
        "errors": sorted({r["outcome"] for r in records if r["outcome"] not in ("ok", BUSY, "lost")}),
        "wall_s": round(wall_seconds, 2),
        "throughput_per_s": round(len(ok) / wall_seconds, 2) if wall_seconds else 0.0,
    }
    if ok:
        summary.update({f"p{p}_s": round(percentile(ok, p), 3) for p in (50, 90, 99)})
        summary["per_tab_p50_s"] = {tab: round(statistics.median([r["seconds"] for r in records
                                                                  if r["tab"] == tab and r["outcome"] == "ok"]), 3)
                                    for tab in tabs() if any(r["tab"] == tab and r["outcome"] == "ok" for r in records)}
    return summary


# Server-side measurements --------------------------------------------------------------------

def rss_bytes(pid: int) -> int:
    import psutil

    return psutil.Process(pid).memory_info().rss


def folder_bytes(folder: Path) -> tuple[int, int]:
    """(bytes, files) under a folder; files vanishing while it is walked are skipped."""
    total = files = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
                files += 1
        except OSError:
            pass
    return total, files


class Sampler:
    """Samples server memory and temporary-folder size every `every` seconds, in a thread."""

    def __init__(self, pid: int, temp: Path, every: float = 0.5):
        self.pid, self.temp, self.every = pid, temp, every
        self.peak_rss = self.peak_temp = 0
        self.rss: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.rss.append(rss_bytes(self.pid))
            self.peak_rss = max(self.peak_rss, self.rss[-1])
            self.peak_temp = max(self.peak_temp, folder_bytes(self.temp)[0])
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(url: str, pid: int, temp: Path, requests, *, clients: int, warmup: int, settle: float,
            download_dir: Path) -> dict:
    """Warm up, run the load while sampling the server, let delete_cache run, and judge."""
    clients = connect(url, clients, download_dir)
    run_load(clients, requests[:warmup])  # first calls: model loads, buffers, one session per client
    rss_warm, (temp_warm, _) = rss_bytes(pid), folder_bytes(temp)
    with Sampler(pid, temp) as sampler:
        start = time.perf_counter()
        records = run_load(clients, requests[warmup:])
        wall = time.perf_counter() - start
    rss_end, (temp_end, files_end) = rss_bytes(pid), folder_bytes(temp)
    bound = max(2 * temp_warm, 2**20)  # back near where warm-up left it
    end = time.monotonic() + settle
    while True:  # delete_cache's next passes remove what the run left
        temp_settled, files_settled = folder_bytes(temp)
        if temp_settled <= bound or time.monotonic() > end:
            break
        time.sleep(0.5)
    summary = summarise(records, wall)
    summary.update({
        "clients": len(clients),
        "rss_warm_mb": round(rss_warm / 2**20, 1), "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_peak_mb": round(sampler.peak_rss / 2**20, 1),
        # at each tenth of the run: a leak climbs steadily, a warm-up transient levels off
        "rss_by_tenth_mb": [round(sampler.rss[min(len(sampler.rss) - 1, len(sampler.rss) * k // 10)] / 2**20, 1)
                            for k in range(1, 11)] if sampler.rss else [],
        "rss_growth_pct": round(100 * (rss_end - rss_warm) / rss_warm, 2),
        "temp_warm_kb": temp_warm // 1024, "temp_peak_kb": sampler.peak_temp // 1024,
        "temp_end_kb": temp_end // 1024, "temp_end_files": files_end,
        "temp_settled_kb": temp_settled // 1024, "temp_settled_files": files_settled,
    })
    summary["checks"] = {
        "every request answered, none lost": summary["lost"] == 0 and len(records) == len(requests) - warmup,
        "every request succeeded": summary["ok"] == summary["requests"],
        "server memory after warm-up grew < 5 %": summary["rss_growth_pct"] < 5.0,
        "temporary folder bounded": temp_settled <= bound,
    }
    return summary


# The server (a child process) ----------------------------------------------------------------

def build_tiny_models(folder: Path) -> dict[str, str]:
    """Each family's tiny model (the one its contract tests use), registered as bench/tiny-<family>."""
    from dataclasses import replace

    from genart_playground.models.registry import register

    names = {}
    for family in loaded_families():
        spec = family.make_tiny(folder / family.id)
        names[family.id] = register(replace(spec, name=f"bench/tiny-{family.id}")).name
    return names


def serve(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    if args.models == "tiny":
        build_tiny_models(Path(args.work) / "tiny-models")  # outside TMPDIR: not part of what is measured
    from genart_playground.ui import output_files
    from genart_playground.ui.app import build_demo, launch

    output_files.OUTPUT_KEEP_SECONDS = args.delete_cache_age
    demo = build_demo()
    demo.delete_cache = delete_cache(args.delete_cache_age)  # read when the server app is made
    launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=args.port, quiet=True)
    print(f"READY {demo.local_url}", flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    demo.close()


def delete_cache(age: int) -> tuple[int, int]:
    """(frequency, age): an upload must outlive its wait in the queue, or it is gone before it is used."""
    return max(1, age // 3), age


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(temp: Path, *, models: str = "tiny", clients: int = 20, delete_cache_age: int = 15,
                 threads: int = 1) -> tuple[subprocess.Popen, str]:
    """This script with --serve, in a child process whose temporary folder is `temp`; its URL."""
    env = {**os.environ, "TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(temp / "gradio"),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
           "GENART_QUEUE_SIZE": str(max(clients, 16))}  # every client may wait: none is refused
    command = [sys.executable, __file__, "--serve", "--port", str(free_port()), "--models", models,
               "--work", str(temp.parent), "--delete-cache-age", str(delete_cache_age), "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in server.stdout:
        if line.startswith("READY "):
            return server, line.split()[1]
    raise RuntimeError(f"the server exited with {server.wait()} before it was ready")


def stop_server(server: subprocess.Popen) -> None:
    server.stdin.close()  # the server's signal to close
    server.wait(timeout=60)


def run(*, models: str = "tiny", clients: int = 20, requests: int = 200, warmup: int = 40,
        delete_cache_age: int = 15, threads: int = 1) -> dict:
    """The whole load test: server up, warm-up, measured run, settle, server down; the summary."""
    work = Path(tempfile.mkdtemp(prefix="genart-load-"))
    temp = work / "server-tmp"
    temp.mkdir()
    try:
        server, url = start_server(temp, models=models, clients=clients, delete_cache_age=delete_cache_age,
                                   threads=threads)
        try:
            workload = make_workload(warmup + requests, models_for(models), work / "pictures")
            summary = measure(url, server.pid, temp, workload, clients=clients, warmup=warmup,
                              settle=sum(delete_cache(delete_cache_age)) + 2, download_dir=work / "downloads")
        finally:
            stop_server(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.update({"models": models, "cpus": os.cpu_count(), "server_torch_threads": threads})
    return summary


def models_for(kind: str) -> dict[str, str | None]:
    """The model each family's requests name: its tiny one, or None (the configured default)."""
    return {family.id: f"bench/tiny-{family.id}" if kind == "tiny" else None for family in loaded_families()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", choices=("tiny", "builtin"), default="tiny")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="measured requests, after the warm-up")
    parser.add_argument("--warmup", type=int, default=40,
                        help="requests before memory is measured: two per client, so every tab and thread has run")
    parser.add_argument("--delete-cache-age", type=int, default=15,
                        help="delete_cache's age in seconds (checked every third of it); longer than any queue wait")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in the server")
    parser.add_argument("--save", type=Path, help="also write the summary as JSON here")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.serve:
        return serve(args)

    summary = run(models=args.models, clients=args.clients, requests=args.requests, warmup=args.warmup,
                  delete_cache_age=args.delete_cache_age, threads=args.threads)
    print(json.dumps(summary, indent=2))
    if args.save:
        args.save.write_text(json.dumps(summary, indent=2) + "\n")
    sys.exit(0 if all(summary["checks"].values()) else 1)


if __name__ == "__main__":
    main()
