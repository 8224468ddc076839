"""GAN walks as MP4, the latent norm along slerp and lerp paths, and the tab's comparison of the two."""

import io

import pytest
from PIL import Image

from genart_playground import gan_interpolation
from genart_playground.families.gan_interpolation.gan_interpolation import latent
from genart_playground.latents import expected_norm
from runs import RUN

WIDE_DIM = 256  # enough dimensions for Gaussian latents to sit near √d


@pytest.fixture(scope="module")
def wide_gan(tmp_path_factory):
    """A tiny generator with a 256-number latent: the norm along a path is the point, not the pictures."""
    import torch

    from genart_playground.models import registry
    from genart_playground.models.cache import cache
    from genart_playground.families.gan_interpolation.dcgan import Generator

    folder = tmp_path_factory.mktemp("models") / "wide-gan"
    torch.manual_seed(0)
    Generator(latent_dim=WIDE_DIM, width=4, image_size=8).save_pretrained(folder)
    name = registry.register(registry.ModelSpec("tests/wide-gan", "gan_interpolation", "gan-generator", str(folder))).name
    yield name
    cache.evict(name)
    registry.unregister(name)


def mp4_frames(data_or_path) -> list:
    """Decode an MP4 (bytes or a path) with PyAV: its frames as PIL images."""
    import av

    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else str(data_or_path)
    with av.open(source) as container:
        return [frame.to_image() for frame in container.decode(video=0)]


def test_mp4_decodes_to_one_picture_per_frame(tiny_gan):
    result = gan_interpolation(0, 1, model=tiny_gan, frames=7)
    frames = mp4_frames(result.mp4)
    assert len(frames) == 7
    assert frames[0].size == (256, 256)  # 64×64 frames scaled up for viewing


def test_one_latent_norm_per_frame_ending_at_the_seeds_own(tiny_gan):
    result = gan_interpolation(3, 8, model=tiny_gan, frames=5, truncation=0.5)
    norms = result.latent_norms
    assert len(norms) == 5
    assert norms[0] == pytest.approx(0.5 * latent(3, 8).norm().item(), rel=1e-5)
    assert norms[-1] == pytest.approx(0.5 * latent(8, 8).norm().item(), rel=1e-5)


@pytest.mark.parametrize("seeds", [(0, 1), (3, 8), (5, 40)])
def test_lerp_midpoint_is_shorter_than_slerp_midpoint(tiny_gan, seeds):
    # lerp's midpoint is slerp's times cos(angle / 2): shorter whenever the latents are not parallel
    slerp = gan_interpolation(*seeds, model=tiny_gan, frames=5, method="slerp").latent_norms
    lerp = gan_interpolation(*seeds, model=tiny_gan, frames=5, method="lerp").latent_norms
    assert lerp[0] == pytest.approx(slerp[0]) and lerp[-1] == pytest.approx(slerp[-1])
    assert lerp[2] < slerp[2]


def test_slerp_stays_on_the_gaussian_shell_where_lerp_dips(wide_gan):
    slerp = gan_interpolation(1, 2, model=wide_gan, frames=9, method="slerp").latent_norms
    lerp = gan_interpolation(1, 2, model=wide_gan, frames=9, method="lerp").latent_norms
    shell = expected_norm(WIDE_DIM)
    assert shell == pytest.approx(16.0)
    low, high = min(slerp[0], slerp[-1]), max(slerp[0], slerp[-1])
    assert all(0.98 * low <= norm <= 1.02 * high for norm in slerp)  # near the endpoints' own norms
    assert all(abs(norm - shell) / shell < 0.1 for norm in slerp)
    assert lerp[4] < 0.8 * shell  # near-orthogonal latents: about shell / √2 midway
    assert min(lerp) == lerp[4]


def test_expected_norm_follows_truncation():
    assert expected_norm(64) == pytest.approx(8.0)
    assert expected_norm(64, 0.5) == pytest.approx(4.0)


# The tab -------------------------------------------------------------------------------------

class FakeProgress:
    def __init__(self):
        self.calls = []

    def __call__(self, fraction, desc=None, **kwargs):
        self.calls.append((fraction, desc))


def test_comparison_handler_reports_progress_in_order(tiny_gan):
    from genart_playground.ui import tab_gan_interpolation

    progress = FakeProgress()
    strips, gif, mp4, table = tab_gan_interpolation.compare_paths(RUN["gan_interpolation"], 0, 1, tiny_gan, 4, 1.0, progress=progress)
    fractions = [fraction for fraction, _ in progress.calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(desc and desc.startswith("lerp") for _, desc in progress.calls)
    assert any(desc and desc.startswith("slerp") for _, desc in progress.calls)
    assert set(table["method"]) == {"lerp", "slerp", "expected (truncation × √d)"}
    assert len(table) == 3 * 4


def test_walk_video_encodes_the_frames_shown(tiny_gan):
    from genart_playground.ui import tab_gan_interpolation

    frames, gif, metadata, made, mean = tab_gan_interpolation.interpolate(RUN["gan_interpolation"], 0, 1, tiny_gan, 5,
                                                                          "slerp", 1.0)
    assert made == frames  # the state the MP4 step reads: the files this server wrote
    assert mean is None  # a DCGAN has no mean style to show
    video = tab_gan_interpolation.walk_video(made)
    assert len(mp4_frames(video)) == 5
    assert tab_gan_interpolation.walk_video([]) is None


def test_long_walk_strips_are_shrunk_to_a_readable_width(tiny_gan):
    from genart_playground.ui import tab_gan_interpolation

    strips, *_ = tab_gan_interpolation.compare_paths(RUN["gan_interpolation"], 0, 1, tiny_gan, 100, 1.0)
    with Image.open(strips) as image:
        width, height = image.size
    assert width <= 4096 + 2 * 99 and height < 2 * 64  # 100 frames of 64 px would be 6,600 px wide


def test_path_comparison_through_the_api(api_client, tiny_gan, no_network_attempts):
    strips, gif, video, plot = api_client.predict(3, 4, tiny_gan, 5, 1.0, api_name="/gan_path_comparison")
    with Image.open(strips) as image:
        assert image.size == (5 * 64 + 4 * 2, 2 * 64 + 2)  # lerp row above slerp row
    with Image.open(gif) as animation:
        assert animation.n_frames == 5 and animation.size == (2 * 64 + 2, 64)  # lerp | slerp
    assert len(mp4_frames(video["video"] if isinstance(video, dict) else video)) == 5
    rows = [dict(zip(plot["columns"], row)) for row in plot["data"]] if "columns" in plot else plot["data"]
    norm = {(row["method"], row["frame"]): row["latent norm"] for row in rows}
    assert norm[("lerp", 2)] < norm[("slerp", 2)]
    assert norm[("lerp", 0)] == pytest.approx(norm[("slerp", 0)])


def test_gan_interpolation_api_is_unchanged(api_client, tiny_gan):
    frames, gif, metadata = api_client.predict(0, 1, tiny_gan, 3, "slerp", 1.0, api_name="/gan_interpolation")
    assert len(frames) == 3 and metadata["frames"] == 3


def test_the_norm_plot_names_each_colour_it_draws():
    from genart_playground.ui import tab_gan_interpolation as tab

    import re

    hexes = {"Red": "#d62728", "Blue": "#1f77b4", "Gray": "#7f7f7f"}
    for colour, method, key in (("Red", "lerp", "lerp"), ("Blue", "slerp", "slerp"), ("Gray", "expected", tab.EXPECTED)):
        assert tab.NORM_COLOURS[key] == hexes[colour]
        assert re.search(rf"{colour} line: (the )?\*\*{method}\*\*", tab.NORM_LEGEND), colour
