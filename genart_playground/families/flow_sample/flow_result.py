"""What the flow's functions return."""

from dataclasses import dataclass, field

from PIL import Image

from ...results import Result


@dataclass
class FlowResult(Result):
    metrics: dict = field(default_factory=dict)  # bits_per_dim (one per picture), max_abs_error, ...
    # flow_round_trip: each level's z as a heat map, finest first, and the picture rebuilt from the coarsest
    # levels alone (the finer ones at their prior's mean): what each scale holds
    z_maps: list[Image.Image] = field(default_factory=list)
    from_levels: list[Image.Image] = field(default_factory=list)
    # flow_points: the density map as training went, and those frames as an animated GIF
    frames: list[Image.Image] = field(default_factory=list)
    gif: bytes = b""
