"""The StyleGAN network (families/gan_interpolation/stylegan.py) on tiny sizes: what each part promises."""

import pytest
import torch
import torch.nn.functional as F

from genart_playground.families.gan_interpolation.stylegan import ModulatedConv, StyleGenerator


def tiny(**options) -> StyleGenerator:
    torch.manual_seed(0)
    return StyleGenerator(z_dim=8, w_dim=8, mapping_layers=2, image_size=16, width=4, max_channels=8, **options)


def test_a_style_per_layer_and_the_resolution_each_drives():
    generator = tiny()
    assert generator.layer_resolutions == [4, 8, 8, 16, 16, 16] and generator.num_ws == 6
    pictures = generator(torch.randn(3, 8))
    assert pictures.shape == (3, 3, 16, 16) and torch.isfinite(pictures).all()
    with pytest.raises(ValueError, match=r"`ws` must be \(N, 6, 8\)"):
        generator.synthesis(torch.randn(3, 5, 8))


def test_modulation_equals_a_kernel_scaled_and_renormalised_for_each_picture():
    torch.manual_seed(1)
    conv, x, w = ModulatedConv(4, 5, 3, 8), torch.randn(2, 4, 6, 6), torch.randn(2, 8)
    styles = conv.affine(w)
    expected = []
    for i in range(2):
        kernel = conv.weight * conv.scale * styles[i][None, :, None, None]
        kernel = kernel * torch.rsqrt(kernel.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        expected.append(F.conv2d(x[i:i + 1], kernel, padding=1))
    assert torch.allclose(conv(x, w), torch.cat(expected), atol=1e-5)


def test_truncation_zero_draws_the_mean_styles_picture_for_every_seed():
    generator = tiny()
    with torch.no_grad():
        generator.map(torch.randn(64, 8), track=True)  # w_avg moves towards the batch's mean w
        assert generator.w_avg.abs().sum() > 0
        pictures = generator(torch.randn(4, 8), truncation=0.0)
    assert torch.allclose(pictures, pictures[:1].expand_as(pictures), atol=1e-5)


def test_one_style_in_every_layer_is_the_plain_forward_and_mixing_changes_the_fine_layers_only():
    generator = tiny()
    z = torch.randn(2, 8)
    with torch.no_grad():
        w = generator.map(z)
        plain = generator(z)
        same = generator.synthesis(w[:, None].expand(-1, generator.num_ws, -1))
        mixed = generator.synthesis(torch.cat([w[:1, None].expand(-1, 3, -1), w[1:, None].expand(-1, 3, -1)], 1))
    assert torch.allclose(plain, same, atol=1e-6)
    assert not torch.allclose(mixed, plain[:1], atol=1e-3) and not torch.allclose(mixed, plain[1:], atol=1e-3)


def test_the_noise_is_fixed_by_default_and_a_cpu_generator_draws_fresh_noise():
    generator = tiny()
    with torch.no_grad():
        for layer in generator.layers:
            layer.noise_strength.fill_(1.0)
        z = torch.randn(1, 8)
        assert torch.equal(generator(z), generator(z))
        first = generator(z, noise=torch.Generator().manual_seed(3))
        assert torch.equal(first, generator(z, noise=torch.Generator().manual_seed(3)))
        assert not torch.equal(first, generator(z, noise=torch.Generator().manual_seed(4)))


def test_a_coded_generator_reads_its_classes_from_z_and_saves_everything(tmp_path):
    generator = tiny(codes=[["a", "b", "c"], ["x", "y"]])
    z = torch.randn(16, 8)
    with torch.no_grad():
        generator.map(z, track=True)
    assert [len(names) for names in generator.describe(z)] == [2] * 16
    turned = z.clone()
    turned[:, :2] = -turned[:, :2]  # half a turn: another sector of the first code, so another class
    assert generator.describe(turned) != generator.describe(z)
    with torch.no_grad():
        assert not torch.allclose(generator.map(turned), generator.map(z))
    generator.save_pretrained(tmp_path)
    loaded = StyleGenerator.from_pretrained(tmp_path)
    assert torch.equal(loaded.w_avg, generator.w_avg) and loaded.codes == generator.codes
    with torch.no_grad():
        assert torch.equal(loaded(z[:2], truncation=0.7), generator(z[:2], truncation=0.7))
    with pytest.raises(ValueError, match=r"`z` must have shape \(N, 8\)"):
        generator(torch.randn(2, 5))
