"""One learner per family: its networks, its optimisers and one training step on a batch of points.

Each offers `step(batch, mode)` (the losses of that step, by name), `sample(count, generator)` and the views
it can draw (`VIEWS`): `critic(xy)` (a GAN's discriminator), `warp(z)` (where a grid of z lands in x),
`log_density(xy)` (exact, a flow's), `field(xy)` (the vector the sampler follows, at one time) and
`paths(count, generator)` (a few samples' trajectories).
"""

import math

import torch
import torch.nn.functional as F
from torch.func import functional_call

from ...devices import make_generator
from .networks import Critic, RealNVP2D, TimeMLP, mlp

UNROLL_STEPS = 5  # Metz et al. unroll 5-10 discriminator steps; 5 already keeps the ring's modes apart
CRITIC_STEPS = 5  # WGAN-GP trains its critic 5 steps per generator step (Gulrajani et al.)
GRADIENT_PENALTY = 10.0  # WGAN-GP's λ (Gulrajani et al.)
TWO_TIMESCALE = 10.0  # the discriminator's learning rate over the generator's (TTUR, Heusel et al.)


def descend(optimizer, loss) -> None:
    """One optimiser step down `loss`."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


class Gan:
    """A generator from 2-D noise (so its grid of z can be drawn) and a discriminator, in one of four losses."""

    VIEWS = ("critic", "warp")
    NETWORKS = ("generator", "discriminator")

    def __init__(self, config):
        torch.manual_seed(config.seed)
        self.loss = "wgan-gp" if config.fix == "wgan-gp" else config.loss
        self.generator = mlp(2, 2, config.width, config.depth)
        self.discriminator = Critic(config.width, config.depth, minibatch_std=config.fix == "minibatch-std")
        betas = (0.5, 0.9) if self.loss == "wgan-gp" else (0.5, 0.999)  # both papers' choices
        # Two timescales: the generator slows down, so the discriminator it chases has time to catch up
        g_lr = config.lr / (TWO_TIMESCALE if config.fix == "two-timescale" else 1.0)
        d_lr = config.lr
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), lr=g_lr, betas=betas)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=d_lr, betas=betas)
        self.unroll = UNROLL_STEPS if config.fix == "unrolled" else 0
        self.g_steps = config.g_steps
        self.d_lr = d_lr
        self.noise = make_generator(config.seed + 1)

    def z(self, count: int) -> torch.Tensor:
        return torch.randn(count, 2, generator=self.noise)

    def d_loss(self, real_scores, fake_scores, real=None, fake=None, critic=None):
        if self.loss == "non-saturating":
            return (F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
                    + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores)))
        if self.loss == "least-squares":
            return ((real_scores - 1) ** 2).mean() + (fake_scores ** 2).mean()
        if self.loss == "hinge":
            return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
        return fake_scores.mean() - real_scores.mean() + GRADIENT_PENALTY * self.penalty(real, fake, critic)

    def g_loss(self, fake_scores):
        if self.loss == "non-saturating":
            return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))
        if self.loss == "least-squares":
            return 0.5 * ((fake_scores - 1) ** 2).mean()
        return -fake_scores.mean()  # WGAN-GP and hinge

    def penalty(self, real, fake, critic):
        """WGAN-GP: the critic's gradient norm pushed to 1 on points between real and fake ones."""
        mix = torch.rand(len(real), 1, generator=self.noise)
        between = (mix * real + (1 - mix) * fake.detach()).requires_grad_(True)
        gradient, = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
        return ((gradient.norm(dim=1) - 1) ** 2).mean()

    def step(self, real: torch.Tensor, mode: str = "both") -> dict:
        logs = {}
        if mode in ("both", "d"):
            for _ in range(CRITIC_STEPS if self.loss == "wgan-gp" else 1):
                fake = self.generator(self.z(len(real))).detach()
                loss = self.d_loss(self.discriminator(real), self.discriminator(fake), real, fake, self.discriminator)
                descend(self.d_optimizer, loss)
            logs["discriminator"] = loss.item()
        if mode in ("both", "g"):
            for _ in range(self.g_steps):
                fake = self.generator(self.z(len(real)))
                scores = self.unrolled_scores(real, fake) if self.unroll else self.discriminator(fake)
                loss = self.g_loss(scores)
                descend(self.g_optimizer, loss)
                self.d_optimizer.zero_grad(set_to_none=True)  # the unrolled copy's gradients reached D's leaves
            logs["generator"] = loss.item()
        return logs

    def unrolled_scores(self, real, fake):
        """Metz et al.: score the fakes with the discriminator as it will be after a few more of its own steps,
        differentiating through those steps, so the generator sees how D would answer a move to one mode.
        The steps are scaled as D's own optimiser (Adam, as in the paper) scales them: each tensor's gradient
        divided by the root of its mean Adam second moment. Plain SGD steps at Adam's learning rate barely move D
        (the fix did nothing); Adam's per-number scaling inside the unrolled graph diverged (NaN)."""
        parameters = dict(self.discriminator.named_parameters())
        scale = self.adam_scale()
        for _ in range(self.unroll):
            critic = lambda x, p=parameters: functional_call(self.discriminator, p, (x,))  # noqa: E731
            loss = self.d_loss(critic(real), critic(fake), real, fake, critic)
            grads = torch.autograd.grad(loss, list(parameters.values()), create_graph=True)
            parameters = {name: value - self.d_lr * g * scale[name]
                          for (name, value), g in zip(parameters.items(), grads)}
        return functional_call(self.discriminator, parameters, (fake,))

    def adam_scale(self) -> dict:
        """Per parameter tensor, 1 / (√mean v̂ + ε) from D's Adam state: about the step Adam gives a unit of its
        gradient (one number per tensor, so no tiny v̂ of a single weight makes a huge step)."""
        beta2 = self.d_optimizer.param_groups[0]["betas"][1]
        scale = {}
        for name, parameter in self.discriminator.named_parameters():
            state = self.d_optimizer.state.get(parameter, {})
            if "exp_avg_sq" not in state:  # before D's first step: plain steps
                scale[name] = 1.0
                continue
            corrected = state["exp_avg_sq"].mean() / (1 - beta2 ** float(state["step"]))
            scale[name] = float(1 / (corrected.sqrt() + 1e-8))
        return scale

    @torch.no_grad()
    def sample(self, count, generator):
        return self.generator(torch.randn(count, 2, generator=generator))

    @torch.no_grad()
    def critic(self, xy):
        scores = self.discriminator(xy)
        return torch.sigmoid(scores) if self.loss == "non-saturating" else scores

    @torch.no_grad()
    def warp(self, z):
        return self.generator(z)

    def push(self, fake: torch.Tensor) -> torch.Tensor:
        """Where the generator's loss pushes each fake point: minus its gradient with respect to the point."""
        fake = fake.detach().requires_grad_(True)
        gradient, = torch.autograd.grad(self.g_loss(self.discriminator(fake)) * len(fake), fake)
        return -gradient


class Vae:
    """An encoder to a 2-D Gaussian q(z|x) and a decoder with a learnt noise level; the loss is minus the ELBO,
    its KL term weighted by β."""

    VIEWS = ("warp",)
    NETWORKS = ("reconstruction", "kl")

    def __init__(self, config):
        torch.manual_seed(config.seed)
        self.beta = config.beta
        self.encoder = mlp(2, 4, config.width, config.depth)
        self.decoder = mlp(2, 2, config.width, config.depth)
        self.log_noise = torch.nn.Parameter(torch.tensor(math.log(0.3)))  # the decoder's σ, learnt
        parameters = [*self.encoder.parameters(), *self.decoder.parameters(), self.log_noise]
        self.optimizer = torch.optim.Adam(parameters, lr=config.lr)
        self.noise = make_generator(config.seed + 1)

    def step(self, real, mode="both"):
        mean, log_var = self.encoder(real).chunk(2, 1)
        z = mean + torch.exp(0.5 * log_var) * torch.randn(mean.shape, generator=self.noise)
        # Gaussian decoder: −log p(x|z) up to a constant, in nats per point
        reconstruction = (0.5 * ((real - self.decoder(z)) / self.log_noise.exp()) ** 2).sum(1).mean() \
            + 2 * self.log_noise
        kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(1).mean()
        loss = reconstruction + self.beta * kl
        descend(self.optimizer, loss)
        return {"reconstruction": reconstruction.item(), "kl": kl.item()}

    @torch.no_grad()
    def sample(self, count, generator):
        z = torch.randn(count, 2, generator=generator)
        return self.decoder(z) + self.log_noise.exp() * torch.randn(count, 2, generator=generator)

    @torch.no_grad()
    def warp(self, z):
        return self.decoder(z)


class Flow:
    """A RealNVP: maximum likelihood, exact."""

    VIEWS = ("density", "warp")
    NETWORKS = ("nll",)

    def __init__(self, config):
        torch.manual_seed(config.seed)
        self.model = RealNVP2D(layers=2 * config.depth + 4, width=config.width // 2, depth=2)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)

    def step(self, real, mode="both"):
        loss = -self.model.log_prob(real).mean()
        descend(self.optimizer, loss)
        return {"nll": loss.item()}

    @torch.no_grad()
    def sample(self, count, generator):
        return self.model.inverse(torch.randn(count, 2, generator=generator))

    @torch.no_grad()
    def log_density(self, xy):
        return self.model.log_prob(xy)

    @torch.no_grad()
    def warp(self, z):
        return self.model.inverse(z)


class Diffusion:
    """DDPM (Ho et al., 2020) with ε-prediction on a cosine schedule of `DIFFUSION_STEPS` steps."""

    VIEWS = ("field",)
    NETWORKS = ("noise_mse",)
    STEPS = 100  # enough for 2-D points; a picture model takes 1000
    FIELD_TIME = 0.25  # the field drawn: a quarter of the way from data to noise, where the modes still show

    def __init__(self, config):
        torch.manual_seed(config.seed)
        self.net = TimeMLP(config.width, config.depth)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        t = torch.linspace(0, 1, self.STEPS + 1)
        alpha_bar = torch.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        self.alpha_bar = (alpha_bar / alpha_bar[0]).clamp(min=1e-5)  # ᾱ_0 = 1 (data) … ᾱ_T ≈ 0 (noise)
        self.noise = make_generator(config.seed + 1)

    def step(self, real, mode="both"):
        index = torch.randint(1, self.STEPS + 1, (len(real),), generator=self.noise)
        epsilon = torch.randn(real.shape, generator=self.noise)
        a = self.alpha_bar[index][:, None]
        noisy = a.sqrt() * real + (1 - a).sqrt() * epsilon
        loss = F.mse_loss(self.net(noisy, index / self.STEPS), epsilon)
        descend(self.optimizer, loss)
        return {"noise_mse": loss.item()}

    @torch.no_grad()
    def trajectory(self, x, generator):
        """Ancestral sampling from noise `x`: every step's points."""
        steps = [x]
        for index in range(self.STEPS, 0, -1):
            a, a_prev = self.alpha_bar[index], self.alpha_bar[index - 1]
            alpha = a / a_prev
            epsilon = self.net(x, torch.full((len(x),), index / self.STEPS))
            mean = (x - (1 - alpha) / (1 - a).sqrt() * epsilon) / alpha.sqrt()
            variance = (1 - alpha) * (1 - a_prev) / (1 - a)
            x = mean + variance.sqrt() * torch.randn(x.shape, generator=generator) if index > 1 else mean
            steps.append(x)
        return steps

    def sample(self, count, generator):
        return self.trajectory(torch.randn(count, 2, generator=generator), generator)[-1]

    def paths(self, count, generator):
        return torch.stack(self.trajectory(torch.randn(count, 2, generator=generator), generator), 1)

    @torch.no_grad()
    def field(self, xy):
        """The score at FIELD_TIME, −ε̂/σ: the direction that makes a noisy point more like the data."""
        index = round(self.FIELD_TIME * self.STEPS)
        sigma = (1 - self.alpha_bar[index]).sqrt()
        return -self.net(xy, torch.full((len(xy),), index / self.STEPS)) / sigma


class FlowMatching:
    """Rectified flow (Liu et al., 2022): x_t = (1 − t)·noise + t·data, the network learns the velocity
    data − noise; sampling follows it from t = 0 to 1 in `STEPS` Euler steps."""

    VIEWS = ("field",)
    NETWORKS = ("velocity_mse",)
    STEPS = 50
    FIELD_TIME = 0.75

    def __init__(self, config):
        torch.manual_seed(config.seed)
        self.net = TimeMLP(config.width, config.depth)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.noise = make_generator(config.seed + 1)

    def step(self, real, mode="both"):
        t = torch.rand(len(real), generator=self.noise)
        start = torch.randn(real.shape, generator=self.noise)
        between = (1 - t[:, None]) * start + t[:, None] * real
        loss = F.mse_loss(self.net(between, t), real - start)
        descend(self.optimizer, loss)
        return {"velocity_mse": loss.item()}

    @torch.no_grad()
    def trajectory(self, x):
        steps = [x]
        for i in range(self.STEPS):
            x = x + self.net(x, torch.full((len(x),), i / self.STEPS)) / self.STEPS
            steps.append(x)
        return steps

    def sample(self, count, generator):
        return self.trajectory(torch.randn(count, 2, generator=generator))[-1]

    def paths(self, count, generator):
        return torch.stack(self.trajectory(torch.randn(count, 2, generator=generator)), 1)

    @torch.no_grad()
    def field(self, xy):
        return self.net(xy, torch.full((len(xy),), self.FIELD_TIME))


LEARNERS = {"gan": Gan, "vae": Vae, "flow": Flow, "diffusion": Diffusion, "flow_matching": FlowMatching}
