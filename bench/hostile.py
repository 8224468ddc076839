"""The hostile requests of issues 13 and 30, sent by hand over loopback HTTP to `python app.py` in a child
process: for each, how long the answer took, what it said, and how much the server's resident memory grew,
side by side in one run; then a normal request, which must still be answered. Round three's table puts
each answer beside what the red team measured before the fix (issue 30).

    python bench/hostile.py            # the app's defaults
    python bench/hostile.py --public   # GENART_PUBLIC=1 (adds the visitor rule's dodges and the sweep)
    python bench/hostile.py --sockets 10 --uploads 4   # smaller (the suite's smoke run)

Writes nothing but its report; the server's temporary folder is a fresh one, removed afterwards.
"""

import argparse
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(width: int, height: int) -> bytes:
    """A PNG of width×height pixels in a few KB: one colour, compressed (a decompression bomb when large)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 0, 0)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def header_png(width: int, height: int) -> bytes:
    """A PNG whose header says width×height, with a recipe chunk: PIL's `.text` would decode it all."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b'genart_playground\0{"task": "gan_interpolation"}')
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


class Server:
    def __init__(self, public: bool):
        self.temp = Path(tempfile.mkdtemp(prefix="genart-hostile-"))
        self.port = free_port()
        env = {**os.environ, "GRADIO_SERVER_PORT": str(self.port), "GRADIO_TEMP_DIR": str(self.temp / "gradio"),
               "TMPDIR": str(self.temp), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        if public:
            env["GENART_PUBLIC"] = "1"
        self.process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError("the server did not start")

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def upload(self, name: str, data: bytes) -> dict:
        response = httpx.post(f"{self.url}/gradio_api/upload", files={"files": (name, data, "image/png")}, timeout=120)
        response.raise_for_status()
        return {"path": response.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def call(self, api_name: str, body) -> tuple[int, str]:
        base = f"{self.url}/gradio_api/call/{api_name}"
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        response = httpx.post(base, content=content, headers={"content-type": "application/json"}, timeout=600)
        if response.status_code != 200:
            return response.status_code, response.text[:120]
        with httpx.stream("GET", f"{base}/{response.json()['event_id']}", timeout=600) as stream:
            lines = list(stream.iter_lines())
        data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
        last = json.loads(data[-1]) if data else None
        return 200, (last.get("error") if isinstance(last, dict) else "ok") or "error: null"

    def stop(self):
        self.process.terminate()
        self.process.wait(30)
        shutil.rmtree(self.temp, ignore_errors=True)


def cases(server: Server) -> dict:
    t2i = ["a red circle", "", "builtin/shapes-t2i", "model default", 1, None, None, None, None, 0]
    thin = server.upload("thin.png", png(8, 8 * 1024))
    return {
        "2. thin image 8×8192 (VAE)": lambda: server.call("vae_reconstruction", {"data": [thin, None, 0, 0]}),
        "3. a path as an image": lambda: server.call("vae_reconstruction", {"data": [
            {"path": str(ROOT / "genart_playground" / "builtin" / "shapes-t2i" / "samples.png")}, None, 0, 0]}),
        "7. a PNG of 13000² (header only)": lambda: server.call("vae_reconstruction", {"data": [
            server.upload("bomb.png", header_png(13000, 13000)), None, 0, 0]}),
        "8. a 200 MB JSON body": lambda: server.call("text_to_image", b'{"data": ["' + b"x" * 200 * 2**20 + b'"]}'),
        "10. a lone surrogate in the prompt": lambda: server.call("text_to_image", json.dumps(
            {"data": ["\ud800"] + t2i[1:]})),
        "10. a string for the steps": lambda: server.call("text_to_image", {"data": t2i[:5] + ["many"] + t2i[6:]}),
        "10. true as the seed": lambda: server.call("text_to_image", {"data": t2i[:9] + [True]}),
        "normal request afterwards": lambda: server.call("text_to_image", {"data": t2i}),
    }


# ---- round three (issue 30): each with what the red team measured before the fix ----------------------------

def recipe_parse() -> tuple[str, str]:
    """1. A PNG whose `parameters` text has no colon: read as the `load` event reads it, in this process."""
    import re

    sys.path.insert(0, str(ROOT))
    from genart_playground import recipes

    a1111 = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')  # A1111's (and our old) pattern
    text = "a " * 8000
    began = time.perf_counter()
    a1111.findall(text)
    old = time.perf_counter() - began
    timings = {}
    for chars in (16_000, recipes.MAX_PARAMETERS_CHARS):
        began = time.perf_counter()
        recipes.parse_a1111_parameters("a " * (chars // 2))
        timings[chars] = time.perf_counter() - began
    began = time.perf_counter()
    try:
        recipes.read_recipe(png_with_text("a " * 2**19))
        said = "read"
    except ValueError as error:
        said = f"refused: {str(error)[:50]}"
    megabyte = time.perf_counter() - began
    return ("0.9 s at 16,000 characters, 48.5 s at 128,000 (extrapolated 55 min at 1 MB)",
            f"the old pattern {old:.2f} s at 16,000 here; ours {timings[16_000] * 1e3:.2f} ms at 16,000, "
            f"{timings[recipes.MAX_PARAMETERS_CHARS] * 1e3:.2f} ms at 65,536; 1 MB {said} in {megabyte * 1e3:.1f} ms")


def png_with_text(text: str) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", text, zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def half_sent_bodies(server: Server, sockets: int) -> str:
    """4. Sockets that send the headers of a 4 MB JSON body, then its first megabyte, and wait."""
    before = server.rss_mb()
    opened = []
    for _ in range(sockets):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        sock.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 4000000\r\n\r\n" + b'{"data": ["' + b"x" * (2**20 - 11))
        opened.append(sock)
    peak = server.rss_mb()
    time.sleep(20)  # past the server's pause limit for a body
    statuses = []
    for sock in opened:
        sock.settimeout(1)
        try:
            answer = sock.recv(64)
        except OSError:
            answer = b""
        statuses.append(answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/1.1 ") else "open")
        sock.close()
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    return (f"{sockets} sockets: RSS {peak - before:+.0f} MB at the peak; after 20 s: "
            + ", ".join(f"{count} × {status}" for status, count in counts.items()))


def half_sent_headers(server: Server, sockets: int) -> str:
    """4. Sockets that send half a request's headers and wait."""
    before = server.rss_mb()
    opened = []
    for _ in range(sockets):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        sock.sendall(b"POST /gradio_api/queue/join HTTP/1.1\r\nHost: x\r\nContent-Ty")
        opened.append(sock)
    time.sleep(20)  # past the server's deadline for headers
    closed = 0
    for sock in opened:
        sock.settimeout(1)
        try:
            closed += sock.recv(64) == b""
        except OSError:
            pass
        sock.close()
    return f"{sockets} sockets: RSS {server.rss_mb() - before:+.0f} MB; after 20 s {closed} closed by the server"


def uploads_against_the_budget(server: Server, uploads: int) -> str:
    """5. Uploads of two 20 MB files each, as fast as they go: the upload folder against its 2 GB budget."""
    statuses = []
    began = time.perf_counter()
    for i in range(uploads):
        files = [("files", (f"{i}-{j}.png", os.urandom(20 * 2**20 - 4096), "image/png")) for j in range(2)]
        statuses.append(httpx.post(f"{server.url}/gradio_api/upload", files=files, timeout=120).status_code)
    seconds = time.perf_counter() - began
    folder = sum(path.stat().st_size for path in (server.temp / "gradio").rglob("*") if path.is_file())
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    return (f"{uploads} uploads of 2 × 20 MB in {seconds:.1f} s: " + ", ".join(f"{n} × {s}" for s, n in counts.items())
            + f"; the upload folder {folder / 2**20:,.0f} MB (budget 2,048)")


def round_three(server: Server, public: bool, sockets: int, uploads: int) -> dict:
    boundary = "genartboundary7"
    parts = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{i}.png"\r\n'
                     f"Content-Type: image/png\r\n\r\n".encode() + b"x" * 100 + b"\r\n" for i in range(40))
    t2i = {"data": ["a red circle", "", None, "model default", 1, None, None, None, None, 0]}
    rows = {
        "1. a recipe PNG's text with no colon": recipe_parse,
        "2. POST /gradio_api/run/text_to_image": (
            "ran outside the queue: 1.9 s with the queue full; 8 at once +540 MB",
            lambda: status_text(httpx.post(f"{server.url}/gradio_api/run/text_to_image", json=t2i, timeout=120))),
        "4. unfinished 4 MB bodies": (
            "150 sockets: RSS 881 → 1,477 MB, all still open after 30 s", lambda: half_sent_bodies(server, sockets)),
        "4. half-sent headers": (
            "1,500 stayed open", lambda: half_sent_headers(server, sockets)),
        "5. uploads at full speed": (
            "64 uploads of 2 × 20 MB: the upload folder at 2,610 MB (budget 2,048) for an hour",
            lambda: uploads_against_the_budget(server, uploads)),
        "6. a 4 MB body of a million empty lists": (
            "1.1–4.4 s of blocked event loop per request", lambda: status_text(httpx.post(
                f"{server.url}/gradio_api/queue/join", content=b'{"data": [' + b"[]," * 1_000_000 + b"[]]}",
                headers={"content-type": "application/json"}, timeout=120))),
        "7. 40 files in one upload, written BOUNDARY=": (
            "40, then 1,000 files stored per request", lambda: status_text(httpx.post(
                f"{server.url}/gradio_api/upload", content=parts + f"--{boundary}--\r\n".encode(), timeout=60,
                headers={"content-type": f"multipart/form-data; BOUNDARY={boundary}"}))),
    }
    if public:
        rows["3. a second job by /call/<name>/ and /call/v2/<name>"] = (
            "200: the visitor rule dodged seven ways", lambda: dodges(server))
        rows["8. the steps sweep, 16 prompts"] = (
            "301.9 s with no work check", lambda: server.call("steps_sweep", {"data": [16]}))
    return rows


def status_text(response) -> str:
    try:
        said = response.json().get("error") or response.text
    except ValueError:
        said = response.text
    return f"{response.status_code}: {str(said)[:60]}"


def dodges(server: Server) -> str:
    """3. While this visitor's run of 4 pictures × 50 steps goes, a second job by the routes the rule missed."""
    import threading

    long = {"data": ["a red circle", "", None, "model default", 4, 50, None, None, None, 0]}  # public caps
    running = threading.Thread(target=server.call, args=("text_to_image", long))
    running.start()
    time.sleep(0.5)
    answers = [httpx.post(f"{server.url}/gradio_api/call/text_to_image/", json=long, timeout=30).status_code,
               httpx.post(f"{server.url}/gradio_api/call/v2/text_to_image", json=long, timeout=30).status_code]
    running.join()
    return "answers " + ", ".join(map(str, answers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--public", action="store_true")
    parser.add_argument("--sockets", type=int, default=1500, help="unfinished bodies, and headers, at once (item 4)")
    parser.add_argument("--uploads", type=int, default=64, help="uploads of 2 × 20 MB (item 5)")
    args = parser.parse_args()
    server = Server(args.public)
    try:
        server.call("text_to_image", {"data": ["a red circle", "", None, "model default", 1, None, None, None,
                                               None, 0]})  # warm: the model loaded
        print("| request | answer | seconds | server RSS growth MB |\n|---|---|---|---|")
        for name, send in cases(server).items():
            before, began = server.rss_mb(), time.perf_counter()
            status, said = send()
            seconds = time.perf_counter() - began
            print(f"| {name} | {status}: {said[:70]} | {seconds:.2f} | {server.rss_mb() - before:+.1f} |")
        print("\nRound three (issue 30): before the fix, as the red team measured it, and now")
        print("| request | before | now | seconds |\n|---|---|---|---|")
        for name, row in round_three(server, args.public, args.sockets, args.uploads).items():
            began = time.perf_counter()
            before, now = row() if callable(row) else (row[0], row[1]())
            now = now if isinstance(now, str) else f"{now[0]}: {now[1][:60]}"
            print(f"| {name} | {before} | {now} | {time.perf_counter() - began:.2f} |")
        status, said = server.call("text_to_image", {"data": ["a red circle", "", None, "model default", 1, None,
                                                              None, None, None, 1]})
        print(f"| normal request at the end | | {status}: {said[:40]} | |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
