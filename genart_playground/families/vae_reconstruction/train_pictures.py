"""The VAE family's `train_pictures` capability: the shapes autoencoder's training script (`train_vae.train`, the
command line's), from scratch on the shapes world, for the training lab's picture runs. An autoencoder draws
reconstructions, not samples: the grid is 8 held-out pictures above their reconstructions, and the checker reads
the reconstructions of 64 fixed training-split scenes."""

from pathlib import Path

DATASET_SIZE = 50_000  # scenes drawn on demand (nothing is rendered up front), so a large set costs nothing
SIZES = (64,)  # the shapes world's size; the model is fully convolutional, the tab's pictures are 64×64


def train_pictures(out, steps: int, seed: int, every: int, size: int = 64, on_step=None, should_stop=None,
                   resume=None) -> dict:
    """`steps` steps of the autoencoder recipe into `out` (samples_<step>.png, quality.jsonl, checkpoint/,
    autoencoder/); `should_stop()` ends it with a checkpoint that `resume` continues from."""
    import torch

    from .train_vae import VaeConfig, train

    if size not in SIZES:
        raise ValueError(f"The autoencoder trains at {SIZES[0]}×{SIZES[0]} only, got {size}.")
    config = VaeConfig(out=str(Path(out) / "autoencoder"), run_dir=str(out), steps=steps, seed=seed,
                       sample_every=every, dataset_size=DATASET_SIZE, warmup=max(1, min(100, steps // 10)),
                       threads=torch.get_num_threads(),  # the server's setting: set_num_threads is process-wide
                       resume=resume is not None)
    folder = train(config, on_step=on_step, should_stop=should_stop)
    return {"folder": Path(folder), "kind": "autoencoder",
            "command": f"python -m genart_playground.train vae --steps {steps} --seed {seed} --sample_every {every} "
                       f"--dataset_size {DATASET_SIZE} --warmup {config.warmup} --run_dir runs/vae-lab "
                       "--out runs/vae-lab/autoencoder"}


train_pictures.sizes = SIZES
train_pictures.title = "Autoencoder (VAE)"  # what the lab's list calls it
