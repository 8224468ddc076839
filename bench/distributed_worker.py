"""One process of a several-process run of the GAN training script, as `torchrun` starts it: the script runs
unchanged (`train_gan.train`), and this wrapper notes what the test and the bench need from each rank: the
weights it ends with, the real pictures it trained on, and when each step ended.

    ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 bench/distributed_worker.py OUT_DIR [train_gan options]

Each rank writes OUT_DIR/rank<r>.json. Used by tests/test_distributed.py and bench/distributed_training.py.
"""

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from accelerate import Accelerator  # noqa: E402

from genart_playground.families.gan_interpolation import train_gan  # noqa: E402
from genart_playground.train.common import parse_config  # noqa: E402


def digest(named_tensors) -> str:
    hashed = hashlib.sha256()
    for name, tensor in sorted(named_tensors):
        hashed.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    return hashed.hexdigest()


def main() -> None:
    out, argv = Path(sys.argv[1]), sys.argv[2:]
    prepared, batches, step_ends = [], [], []
    prepare, real_batch = Accelerator.prepare, train_gan.real_batch

    def noting_prepare(self, *objects):
        result = prepare(self, *objects)
        prepared.append((self, result))
        return result

    def noting_real_batch(dataset, step, cfg, rank, conditional):
        images, labels = real_batch(dataset, step, cfg, rank, conditional)
        batches.append(hashlib.sha256(images.numpy().tobytes()).hexdigest()[:16])
        return images, labels

    Accelerator.prepare, train_gan.real_batch = noting_prepare, noting_real_batch
    config = parse_config(train_gan.TrainConfig, argv)
    train_gan.train(config, on_step=lambda step, total, logs: step_ends.append(time.perf_counter()))
    accelerator, (generator, discriminator, *_) = prepared[0]
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{accelerator.process_index}.json").write_text(json.dumps({
        "rank": accelerator.process_index, "processes": accelerator.num_processes,
        "distributed_type": str(accelerator.distributed_type), "batch_size": config.batch_size,
        # the weights; the buffers apart (BatchNorm's running statistics are each rank's own last batch's)
        **{name: digest(accelerator.unwrap_model(module).named_parameters())
           for name, module in (("generator", generator), ("discriminator", discriminator))},
        **{f"{name}_buffers": digest(accelerator.unwrap_model(module).named_buffers())
           for name, module in (("generator", generator), ("discriminator", discriminator))},
        "batches": batches, "step_ends": step_ends}))


if __name__ == "__main__":
    main()
