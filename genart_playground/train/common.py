"""Shared by the training scripts: resumable state in safetensors only (no pickle), EMA, config parsing."""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def save_checkpoint(folder: str | Path, *, modules: dict, optimizers: dict, step: int, extra: dict | None = None) -> None:
    """Write `<name>.safetensors` per module and per optimizer, plus state.json; overwrite atomically enough."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        weights = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
        save_file(weights, str(folder / f"{name}.safetensors"))
    groups = {}
    for name, optimizer in optimizers.items():
        state = optimizer.state_dict()
        tensors = {f"{index}.{key}": torch.as_tensor(value).contiguous().clone()  # channels_last moments too
                   for index, slots in state["state"].items() for key, value in slots.items()}
        save_file(tensors, str(folder / f"optimizer_{name}.safetensors"))
        groups[name] = [{k: v for k, v in g.items() if k != "params"} for g in state["param_groups"]]
    (folder / "state.json").write_text(json.dumps({"step": step, "param_groups": groups, **(extra or {})}, indent=1))


def load_checkpoint(folder: str | Path, *, modules: dict, optimizers: dict) -> dict:
    """Restore what `save_checkpoint` wrote into the given modules and optimizers; return state.json."""
    folder = Path(folder)
    info = json.loads((folder / "state.json").read_text())
    for name, module in modules.items():
        module.load_state_dict(load_file(str(folder / f"{name}.safetensors")))
    for name, optimizer in optimizers.items():
        template = optimizer.state_dict()
        state: dict = {}
        for key, value in load_file(str(folder / f"optimizer_{name}.safetensors")).items():
            index, slot = key.split(".", 1)
            state.setdefault(int(index), {})[slot] = value
        for group, saved in zip(template["param_groups"], info["param_groups"][name]):
            group.update(saved)
        optimizer.load_state_dict({"state": state, "param_groups": template["param_groups"]})
    return info


def resume(folder: str | Path, *, modules: dict, optimizers: dict, schedule) -> dict:
    """Continue a run from its checkpoint in `folder`: weights, optimizer state, and the learning-rate
    schedule moved on to the checkpoint's step. Returns its state.json ({} when there is none)."""
    if not (Path(folder) / "state.json").exists():
        return {}
    info = load_checkpoint(folder, modules=modules, optimizers=optimizers)
    schedule.last_epoch = info["step"] - 1
    schedule.step()
    return info


def warmup_cosine(optimizer, *, warmup: int, steps: int):
    """The scripts' learning rate: a linear warmup over `warmup` steps, then a cosine decay to 0 at `steps`."""
    import math

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1, (s + 1) / warmup)
                                             * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))


def linear_decay(step: int, *, steps: int, decay_from: float) -> float:
    """The GAN scripts' learning-rate factor: 1 until `decay_from` × steps, then linearly down to 0 at the
    last step (pix2pix's schedule). A function of the step alone, so a resumed run picks it up where it was."""
    start = decay_from * steps
    return min(1.0, max(0.0, (steps - step) / max(steps - start, 1)))


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p.detach(), 1 - decay)


def parse_config(config_class, argv: list[str] | None):
    """`--field value` for every field of the config dataclass; the defaults and their reasons live there."""
    import argparse
    import dataclasses

    parser = argparse.ArgumentParser(description=config_class.__doc__)
    for field in dataclasses.fields(config_class):
        kind = field.type if isinstance(field.type, type) else eval(field.type)  # noqa: S307 - our own annotations
        if kind is bool:
            parser.add_argument(f"--{field.name}", type=lambda s: s.lower() in ("1", "true", "yes"), default=field.default)
        else:
            parser.add_argument(f"--{field.name}", type=kind, default=field.default)
    return config_class(**vars(parser.parse_args(argv)))
