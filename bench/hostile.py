"""The hostile requests of issue 13, sent by hand over loopback HTTP to `python app.py` in a child process:
for each, how long the answer took, what it said, and how much the server's resident memory grew, side
by side in one run; then a normal request, which must still be answered.

    python bench/hostile.py            # the app's defaults
    python bench/hostile.py --public   # GENART_PUBLIC=1

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--public", action="store_true")
    args = parser.parse_args()
    server = Server(args.public)
    try:
        server.call("text_to_image", {"data": ["a red circle", "", None, "model default", 1, None, None, None,
                                               None, 0]})  # warm: the model loaded
        print(f"| request | answer | seconds | server RSS growth MB |\n|---|---|---|---|")
        for name, send in cases(server).items():
            before, began = server.rss_mb(), time.perf_counter()
            status, said = send()
            seconds = time.perf_counter() - began
            print(f"| {name} | {status}: {said[:70]} | {seconds:.2f} | {server.rss_mb() - before:+.1f} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
