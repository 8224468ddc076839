"""An X/Y grid: one text-to-image picture per pair of values of two settings (prompt × seed, steps ×
guidance, ...), drawn as one labelled picture with the checker's verdict under each cell."""

import textwrap

import torch
from PIL import Image, ImageDraw, ImageFont

from ... import checks, diffusion, limits
from . import GRID_AXES as AXES
from ...metrics import world
from ...results import Result, versions

CELL = 128  # pixels a cell's picture is shown at (the built-ins draw 64×64: doubled, hard edges)
LABEL_WIDTH, HEADER, VERDICT = 180, 40, 20


def _check_values(axis: str, values) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"`{axis}_values` must be a list of 1 to {limits.MAX_GRID_VALUES} values.")
    if len(values) > limits.MAX_GRID_VALUES:
        raise ValueError(f"An axis may have at most {limits.MAX_GRID_VALUES} values, got {len(values)}.")
    return list(values)


def _value(axis: str, value):
    """One axis value, checked and typed as text_to_image takes it."""
    if axis == "prompt":
        return checks.check_prompt("prompt", value)
    if axis == "seed":
        return checks.check_seed("seed", value)
    if axis == "steps":
        return checks.check_int("steps", value, 1, limits.MAX_STEPS)
    if axis == "guidance":
        return checks.check_float("guidance", value, 0.0, limits.MAX_GUIDANCE)
    return checks.check_choice("scheduler", value, list(diffusion.SCHEDULERS))


@torch.inference_mode()
def xy_grid(model=None, *, x="prompt", x_values=(), y="seed", y_values=(), prompt="a red circle", seed=0,
            steps=None, guidance=None, scheduler=None, progress=None) -> Result:
    """One picture per (x value, y value); the other settings from the keyword options."""
    from ... import text_to_image  # the public function: another family's folder is not imported

    # 1. Check inputs: the axes, every value, and every cell's settings, before any model work
    x, y = checks.check_choice("x", x, AXES), checks.check_choice("y", y, AXES)
    if x == y:
        raise ValueError("`x` and `y` must be two different settings.")
    columns = [_value(x, v) for v in _check_values("x", x_values)]
    rows = [_value(y, v) for v in _check_values("y", y_values)]
    if len(columns) * len(rows) > limits.MAX_GRID_CELLS:
        raise ValueError(f"{len(columns)} × {len(rows)} = {len(columns) * len(rows)} pictures; a grid may have at "
                         f"most {limits.MAX_GRID_CELLS}.")
    base = {"prompt": checks.check_prompt("prompt", prompt), "seed": checks.check_seed("seed", seed), "steps": steps,
            "guidance": guidance, "scheduler": scheduler}
    cells = [[{**base, x: column, y: row} for column in columns] for row in rows]
    total = sum(diffusion.work(diffusion.check_options(model, "", cell["steps"], cell["guidance"], None, None,
                                                      cell["scheduler"]), 1) for line in cells for cell in line)
    diffusion.check_total_work(f"grid of {len(columns) * len(rows)} pictures", total)  # the cells together

    # 2. Draw each cell and read it with the checker
    pictures, table = [], []
    for r, line in enumerate(cells):
        for c, cell in enumerate(line):
            result = text_to_image(cell["prompt"], model=model, seed=cell["seed"], steps=cell["steps"],
                                   guidance=cell["guidance"], scheduler=cell["scheduler"])
            picture = result.images[0]
            pictures.append(picture)
            table.append({x: columns[c], y: rows[r], **verdict(picture, cell["prompt"])})
            if progress is not None:
                progress(len(pictures) / (len(columns) * len(rows)), f"Cell {len(pictures)} of {len(columns) * len(rows)}")

    # 3. One labelled picture
    grid = draw_grid(pictures, table, x, columns, y, rows)
    metadata = {"task": "xy_grid", "model": result.metadata["model"], "x": x, "x_values": columns, "y": y,
                "y_values": rows, "prompt": base["prompt"], "seed": base["seed"], "steps": steps,
                "guidance": guidance, "scheduler": scheduler, "cells": table, "versions": versions()}
    return Result(images=[grid, *pictures], metadata=metadata)


def verdict(picture: Image.Image, prompt: str) -> dict:
    """The checker on one cell: whether it shows what the prompt names, and what it read."""
    judged = world.judge([picture])[0]
    named = world.prompt_attributes(prompt)
    matches = bool(named) and judged.agrees(**named)
    read = f"{judged.color} {judged.shape}" if judged.shape else "no clear shape"
    return {"matches": matches, "clean": judged.clean, "read": read}


def draw_grid(pictures, table, x, columns, y, rows) -> Image.Image:
    # ASCII only: Pillow's built-in font has no arrows or check marks.
    font = ImageFont.load_default(13)
    width, height = LABEL_WIDTH + CELL * len(columns), HEADER + (CELL + VERDICT) * len(rows)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    draw.multiline_text((4, 4), f"rows: {y}\ncolumns: {x}", fill="black", font=font)
    for c, value in enumerate(columns):
        draw.multiline_text((LABEL_WIDTH + c * CELL + 4, 4), _lines(value, 18, 2), fill="black", font=font)
    for r, value in enumerate(rows):
        top = HEADER + r * (CELL + VERDICT)
        draw.multiline_text((4, top + CELL // 2 - 8), _lines(value, 24, 3), fill="black", font=font)
        for c in range(len(columns)):
            index = r * len(columns) + c
            left = LABEL_WIDTH + c * CELL
            canvas.paste(pictures[index].convert("RGB").resize((CELL, CELL), Image.NEAREST), (left, top))
            cell = table[index]
            mark, colour = ("yes", (20, 130, 40)) if cell["matches"] else ("no", (190, 30, 30))
            draw.text((left + 4, top + CELL + 3), _lines(f"{mark}: {cell['read']}", 20, 1), fill=colour, font=font)
    return canvas


def _lines(value, width: int, most: int) -> str:
    """The value as at most `most` lines of `width` characters, cut with "..." when longer."""
    lines = textwrap.wrap(str(value), width) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][:width - 3] + "..."
    return "\n".join(lines)
