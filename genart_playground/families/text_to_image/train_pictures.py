"""The text-to-image family's `train_pictures` capability: the diffusion transformer's training script
(`train_dit.train`, the command line's), from scratch on the shapes world, for the training lab's picture runs.
Its autoencoder and tokenizer are the built-in shapes-t2i's, frozen, as in the shipped model."""

from pathlib import Path

DATASET_SIZE = 4_000  # scenes whose latents are computed before the first step: ~20 s, not a minute for 16,000
SIZES = (64,)  # the frozen autoencoder makes 16×16 latents of 64×64 pictures; the transformer is built for those


def train_pictures(out, steps: int, seed: int, every: int, size: int = 64, on_step=None, should_stop=None,
                   resume=None) -> dict:
    """`steps` steps of the rectified-flow DiT recipe into `out` (samples_<step>.png, quality.jsonl, checkpoint/,
    pipeline/); `should_stop()` ends it with a checkpoint that `resume` continues from."""
    import torch

    from ..base import builtin
    from . import MODELS
    from .train_dit import DitConfig, train

    if size not in SIZES:
        raise ValueError(f"The diffusion transformer trains at {SIZES[0]}×{SIZES[0]} only, got {size}.")
    config = DitConfig(base=builtin("shapes-t2i"), out=str(Path(out) / "pipeline"), run_dir=str(out), steps=steps,
                       seed=seed, eval_every=every, dataset_size=DATASET_SIZE, warmup=max(1, min(300, steps // 10)),
                       threads=torch.get_num_threads(),  # the server's setting: set_num_threads is process-wide
                       resume=resume is not None)
    folder = train(config, on_step=on_step, should_stop=should_stop)
    shipped = next(spec for spec in MODELS if spec.name == "builtin/shapes-dit")
    return {"folder": Path(folder), "kind": "diffusers-pipeline", "defaults": dict(shipped.defaults),
            "command": f"python -m genart_playground.train dit --steps {steps} --seed {seed} --eval_every {every} "
                       f"--dataset_size {DATASET_SIZE} --warmup {config.warmup} --run_dir runs/dit-lab "
                       "--out runs/dit-lab/pipeline"}


train_pictures.sizes = SIZES
train_pictures.title = "Diffusion transformer (rectified flow)"  # what the lab's list calls it
