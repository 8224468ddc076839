"""What `toy_training` returns."""

from dataclasses import dataclass, field

from ...results import Result


@dataclass
class ToyResult(Result):
    """`images`: the final views (`captions` names each); `metrics`: modes_covered, modes, good_share, js, loss
    (each network's last value), steps; `measures`: those measures every 100 steps; `charts`: loss and coverage."""

    captions: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    measures: list[dict] = field(default_factory=list)
    charts: list = field(default_factory=list)
