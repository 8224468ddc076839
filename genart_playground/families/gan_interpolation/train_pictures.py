"""The GAN family's `train_pictures` capability: its training script (`train_gan.train`, the command line's),
from scratch on the shapes world, for the training lab's picture runs."""

from pathlib import Path

EVAL_SAMPLES = 64  # the checker's samples at each evaluation: the sample grid's 64, a figure in seconds
SIZES = (32, 64)  # 32×32: a quarter of the pixels, about 4× the steps per CPU minute; the checker reads both


def train_pictures(out, steps: int, seed: int, every: int, size: int = 32, on_step=None, should_stop=None,
                   resume=None) -> dict:
    """`steps` steps of the DCGAN recipe at size×size into `out` (the script's files: samples_<step>.png,
    quality.jsonl, checkpoint/, generator/); `should_stop()` ends it with a checkpoint that `resume` continues."""
    from .train_gan import TrainConfig, train

    config = TrainConfig(out=str(out), steps=steps, seed=seed, image_size=size, eval_every=every, sample_every=every,
                         eval_samples=EVAL_SAMPLES, resume=str(resume) if resume else "")
    folder = train(config, on_step=on_step, should_stop=should_stop)
    return {"folder": Path(folder), "kind": "gan-generator", "command": "python -m genart_playground.train gan "
            f"--steps {steps} --seed {seed} --image_size {size} --eval_every {every} --sample_every {every} "
            f"--eval_samples {EVAL_SAMPLES}"}


train_pictures.sizes = SIZES
train_pictures.title = "DCGAN"  # what the lab's list calls it
