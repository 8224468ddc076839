"""A run's (or several runs') curves as charts: the losses per network, the modes covered and the divergence."""

from .charts import line_chart

LOSS_UNITS = {"nll": "nats per point", "reconstruction": "nats per point", "kl": "nats per point"}


def loss_chart(run):
    names = list(run.losses)
    unit = LOSS_UNITS.get(names[0], "loss") if names else "loss"
    smooth = max(1, run.step // 200)  # one step's loss is noisy; a running mean shows the trend
    return line_chart({name: values for name, values in run.losses.items()}, smooth=smooth,
                      title=f"{run.config.family} losses per network" + (f" (running mean of {smooth} steps)"
                                                                         if smooth > 1 else ""),
                      x_label="training step", y_label=unit)


def coverage_chart(runs: dict):
    modes = max(run.data.modes.shape[0] for run in runs.values())
    return line_chart({label: [(m["step"], m["modes_covered"]) for m in run.measures] for label, run in runs.items()},
                      title=f"modes covered (of {modes}) on fixed noise, every 100 steps", x_label="training step",
                      y_label="modes", y_range=(0, modes))


def divergence_chart(runs: dict):
    return line_chart({label: [(m["step"], m["js"]) for m in run.measures] for label, run in runs.items()},
                      title="Jensen-Shannon divergence to the data on a 32x32 grid (0: the same)",
                      x_label="training step", y_label="bits", y_range=(0, 1))


def run_charts(runs: dict) -> list:
    """One run: its losses, coverage and divergence; several: coverage and divergence, one line per run."""
    charts = [loss_chart(next(iter(runs.values())))] if len(runs) == 1 else []
    return charts + [coverage_chart(runs), divergence_chart(runs)]
