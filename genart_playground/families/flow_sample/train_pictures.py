"""The flow family's `train_pictures` capability: its training script (`train_flow.train`, the command line's),
from scratch on the shapes world, for the training lab's picture runs."""

from pathlib import Path

EVAL_SAMPLES = 64  # the checker's samples at each evaluation (the script's own default is 240): seconds, not a minute
DATASET_SIZE = 5_000  # scenes rendered before the first step: ~15 s, not the script's minute for 20,000
SIZES = (32, 64)  # 32×32 is the shipped model's; 64×64 costs about 4× per step


def train_pictures(out, steps: int, seed: int, every: int, size: int = 32, on_step=None, should_stop=None,
                   resume=None) -> dict:
    """`steps` steps of the Glow recipe at size×size into `out` (samples_<step>.png, quality.jsonl, checkpoint/,
    model/); `should_stop()` ends it with a checkpoint that `resume` continues from."""
    from .train_flow import TrainConfig, train

    config = TrainConfig(out=str(out), steps=steps, seed=seed, image_size=size, eval_every=every,
                         eval_samples=EVAL_SAMPLES, dataset_size=DATASET_SIZE, warmup=max(1, min(200, steps // 10)),
                         resume=str(resume) if resume else "")
    folder = train(config, on_step=on_step, should_stop=should_stop)
    return {"folder": Path(folder), "kind": "glow", "command": "python -m genart_playground.train flow "
            f"--steps {steps} --seed {seed} --image_size {size} --eval_every {every} --eval_samples {EVAL_SAMPLES} "
            f"--dataset_size {DATASET_SIZE} --warmup {config.warmup}"}


train_pictures.sizes = SIZES
train_pictures.title = "Glow (normalizing flow)"  # what the lab's list calls it
