"""The training lab: five families learn the same 2-D points live, a GAN collapses on demand and a fix mends
it. Its networks are built and trained in the request: the family has no stored models."""

from ... import recipes, settings
from ..base import Example, Family

TOY_FAMILIES = ("gan", "vae", "flow", "diffusion", "flow_matching")
DATASETS = ("ring8", "grid25", "two moons", "spiral", "line", "rings", "drawn")
GAN_LOSSES = ("non-saturating", "least-squares", "wgan-gp", "hinge")
FIXES = ("wgan-gp", "minibatch-std", "unrolled", "two-timescale")
PRESETS = ("collapse",)
# Each family's budget and Adam step on the ring at the default sizes: 7+ of 8 modes on every seed the bench tried
# (python bench/toy_lab.py); the flow needs the larger step to pull its mass apart into 8 islands.
DEFAULT_STEPS = {"gan": 2000, "vae": 2000, "flow": 2000, "diffusion": 2000, "flow_matching": 1500}
DEFAULT_LR = {"gan": 1e-3, "vae": 1e-3, "flow": 2e-3, "diffusion": 1e-3, "flow_matching": 1e-3}
# The collapse preset's budget: collapsed at step 1,000 on each of seeds 0-4; past it, a run now and then escapes
PRESET_STEPS = {"collapse": 1000}
MAX_DRAWN_POINTS = 2_000  # painted pixels kept as points (evenly thinned): plenty for a shape drawn by hand
# One request's training steps: about a minute on a CPU core for the slowest family (public: a quarter)
MAX_TOY_STEPS = 5_000 if settings.PUBLIC else 20_000
# A 2-D net past these learns nothing more, only costs more (public: half as wide, a quarter of the batch)
MAX_WIDTH, MAX_DEPTH, MAX_BATCH = (256, 6, 512) if settings.PUBLIC else (512, 6, 2048)
MAX_RUNS = 8 if settings.PUBLIC else 16  # live labs the server keeps, every visitor together; past it the oldest go
MAX_PLAY_STEPS = 2_000 if settings.PUBLIC else 5_000  # one Play's steps per run; then it pauses itself
# Picture runs (a family's own training script, in the page): steps of one run, runs training at once on the
# server (each holds a CPU core), and runs kept on disk (a DCGAN run is ~10 MB with its checkpoint)
MAX_PICTURE_STEPS = 3_000 if settings.PUBLIC else 20_000
MAX_PICTURE_RUNS_TRAINING = 1 if settings.PUBLIC else 2
MAX_PICTURE_RUNS_KEPT = 4 if settings.PUBLIC else 8
PICTURE_FAMILY = "text_to_image"  # the diffusion transformer: the family whose samples turn clean within minutes
# Pixels a side: 32 costs a quarter of 64's per step, and the checker still reads 96 % of real pictures as clean
# at 32 (16×16 is too coarse: 36 %). "auto": the smallest the family's script trains.
PICTURE_SIZES = ("auto", 32, 64)
PICTURE_STEPS = 2_000  # the default: the DCGAN draws mostly clean shapes by then, minutes on a CPU

EXPLANATION = """\
Five families learn the same cloud of 2-D points, small enough to train live on a CPU. **Family** picks one
(**all five** side by side, one clock); **Points** the data: a ring of 8 Gaussians, a grid of 25, two moons,
a spiral, a line, two rings, or what you paint on the canvas (**drawn**).

- **GAN**: a generator bends 2-D noise into points, a discriminator scores real against fake. Its map (yellow:
  "real") and red arrows show where the **GAN loss** pushes each fake point. **Step trains** both, **D only**
  or **G only**: the adversarial game one player at a time.
- **VAE** (minus the ELBO, **β (VAE)** on its KL term), **flow** (a RealNVP: exact density), **diffusion**
  (DDPM, noise prediction) and **flow matching** (rectified flow, velocity): the warped grid shows where a
  square grid of z lands; the vector field and paths show how noise is carried to data.
- **Modes covered**: how many of the data's modes (the 8 blobs; 8 stretches of a curve) hold at least a quarter
  of their share of 1,000 samples drawn from fixed noise. The Jensen-Shannon divergence compares the two
  clouds on a grid.
- **Mode collapse**: **Collapse preset** gives the GAN's generator 5 steps per discriminator step at twice the
  learning rate: it always reaches the critic's favourite spot before the critic moves, so all fakes land on
  one mode and hop to the next (*modes covered* stays at 0 or 1 for its 1,000 steps; later, a lucky run
  sometimes escapes). A **Fix** runs beside it: two timescales
  (the generator 10× slower), minibatch standard deviation (D sees the batch's spread), WGAN-GP (a critic with
  a gradient penalty, 5 critic steps per generator step) or unrolled (G answers D a few steps ahead).
- **Learning rate**, **Width**, **Depth**, **Batch size**, **Seed**; **Steps per refresh** between pictures.
  **Play** runs until **Pause**; **Step** runs one refresh; **Reset** starts again; **Run to the budget**
  trains one family to its default number of steps.
- **Picture runs**: a family's own training script (**Picture family**: a diffusion transformer, DCGAN, Glow,
  or an autoencoder, shown as pictures over their reconstructions) trains on the shapes world for
  **Training steps** at **Picture size** (32 or 64 pixels a side); the checker reads its samples every
  **Evaluate every** steps. **Run name** and **Run seed** name and seed it; paused or finished, it is
  `lab/<name>` in its family's tabs."""


def training_snippet(metadata: dict) -> str:
    options = {name: metadata.get(name) for name in ("steps", "seed", "preset", "fix", "loss", "lr", "width", "depth",
                                                     "batch_size", "beta")}
    return "\n".join([
        "from genart_playground import toy_training",
        "",
        recipes.call("toy_training", [repr(metadata.get("family", "gan")), repr(metadata.get("dataset", "ring8"))],
                     options),
        "print(result.metrics[\"modes_covered\"], \"of\", result.metrics[\"modes\"], \"modes\")",
        "for caption, image in zip(result.captions, result.images):",
        "    image.save(f\"{caption.replace(' ', '_')}.png\")",
    ])


FAMILY = Family(
    id="toy_training",
    title="Training lab",
    api={"toy_training": f"{__name__}.toy_training:toy_training",
         "toy_lab": f"{__name__}.toy_lab:toy_lab",
         "picture_lab": f"{__name__}.picture_runs:picture_lab",
         "ToyResult": f"{__name__}.toy_result:ToyResult"},
    # live labs and picture runs are objects a notebook drives; the page's own events use them
    python_only=("toy_lab", "picture_lab", "ToyResult"),
    snippets={"toy_training": training_snippet},
    summary=("Watch a GAN, a VAE, a normalizing flow, a diffusion model and a flow-matching model learn the same "
             "2-D points, live: losses, the discriminator's map, warped grids, vector fields, modes covered. "
             "Make a GAN collapse, then switch on a fix."),
    explanation=EXPLANATION,
    key_ideas=("adversarial game", "Modes covered", "Mode collapse", "ELBO", "exact density", "vector field",
               "Jensen-Shannon"),
    tab=f"{__name__}.tab",
    trainers={"toy": f"{__name__}.train_toy"},
    bench=f"{__name__}.bench:toy_figures",
    example=Example(args=("gan",), options={"steps": 20, "seed": 1},
                    refused={"steps": 10**9, "seed": -1, "width": 10**6}, button="Run to the budget"),
)
