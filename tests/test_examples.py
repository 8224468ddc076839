"""The example scripts run as a user runs them, on the built-in models, and write what they promise."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from genart_playground import settings

ROOT = Path(__file__).resolve().parents[1]
BUILTINS = all((settings.BUILTIN_DIR / name).is_dir() for name in ("shapes-t2i", "shapes-gan"))


def run(script: str, out: Path, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--out", str(out), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


pytestmark = [pytest.mark.slow,  # runs the example scripts on the shipped models
              pytest.mark.skipif(not BUILTINS, reason="built-in weights not shipped")]


def test_text_to_image_example(tmp_path):
    run("text_to_image.py", tmp_path, "--seed", "2")
    assert [Image.open(tmp_path / f"text_to_image_{i}.png").size for i in range(4)] == [(64, 64)] * 4
    assert json.loads((tmp_path / "text_to_image.json").read_text())["seed"] == 2


def test_style_transfer_example(tmp_path):
    printed = run("style_transfer.py", tmp_path, "--steps", "20")
    assert Image.open(tmp_path / "style_transfer.png").size[0] > 0
    assert json.loads((tmp_path / "style_transfer.json").read_text())["steps"] == 20
    assert "style loss" in printed


def test_gan_interpolation_example(tmp_path):
    run("gan_interpolation.py", tmp_path, "--frames", "8")
    gif = Image.open(io.BytesIO((tmp_path / "gan_interpolation.gif").read_bytes()))
    assert gif.n_frames == 8


def test_vae_reconstruction_example(tmp_path):
    printed = run("vae_reconstruction.py", tmp_path)
    source = Image.open(ROOT / "examples" / "images" / "shapes.png")
    assert Image.open(tmp_path / "vae_reconstruction.png").size == source.size
    assert "PSNR" in printed


@pytest.mark.skipif(not (settings.BUILTIN_DIR / "shapes-pix2pix").is_dir(), reason="shapes-pix2pix not shipped")
def test_translate_image_example(tmp_path):
    printed = run("translate_image.py", tmp_path)
    assert Image.open(tmp_path / "translation.png").size == (64, 64)
    assert "resized from 256×256 to 64×64" in printed


def test_the_readmes_python_snippet_runs_from_any_folder(tmp_path):
    """`pip install -r requirements.txt` installs the package itself (`-e .`): the README's first Python
    snippet runs in a folder that is not the checkout."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", snippet + "\nimport genart_playground; print(genart_playground.__file__)"],
                          cwd=tmp_path, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "circle.png").exists() and "psnr" in done.stdout
    assert Path(done.stdout.strip().splitlines()[-1]).resolve() == ROOT / "genart_playground" / "__init__.py"


@pytest.mark.skipif(not (settings.BUILTIN_DIR / "shapes-stylegan").is_dir(), reason="shapes-stylegan not shipped")
def test_style_mixing_example(tmp_path):
    printed = run("style_mixing.py", tmp_path, "--coarse", "1", "2", "--fine", "3", "4", "5")
    assert Image.open(tmp_path / "style_mixing.png").size == (4 * 66 - 2, 3 * 66 - 2)
    assert "fine seeds' from layer 4 (16×16) on" in printed and "layer 9 (64×64)" in printed
