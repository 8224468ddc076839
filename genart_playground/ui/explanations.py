"""How each model works, in a few correct paragraphs beside the controls that show it.

Control names in **bold** are the labels on screen; each tab calls `how_it_works(task)` once.
"""

import gradio as gr

TEXT = {
    "text_to_image": """\
**Diffusion.** In training, Gaussian noise of a random strength is added to pictures and a network
(a UNet) learns to predict the noise that was added (the built-in model predicts the equivalent
"v" target). Generating runs this backwards: start from pure noise and remove a little of it at
each of the **Steps**.

- **Latent space.** The noise is not in pixels but in the latents of an autoencoder (a VAE): the
  built-in model denoises a 16×16×4 grid for a 64×64 picture, Stable Diffusion 64×64×4 for 512×512.
  At the end the VAE's decoder turns the latents into the picture; **Width** and **Height** are its size.
- **Text conditioning.** A text encoder (CLIP) turns the **Prompt** into one vector per token.
  Inside the UNet, cross-attention layers let every image position look up the tokens it needs.
- **Classifier-free guidance** (**Guidance**, g). Each step predicts twice, with the prompt (cond)
  and with an empty prompt (uncond), and uses uncond + g·(cond − uncond): above 1 it pushes harder
  towards the prompt (a closer match, less variety; too high burns the colours). The
  **Negative prompt** takes the empty prompt's place, so the picture is pushed away from it. At
  g ≤ 1 only the prompt's prediction is used and the negative prompt is ignored.
- **Scheduler.** The numerical method that turns the predictions into steps from noise to picture.
  euler takes plain first-order steps; euler-ancestral adds fresh noise at each step (the picture
  keeps changing with the step count); dpm++ (DPM-Solver++) and unipc are higher-order multistep
  solvers, good in 15-25 steps; ddim is deterministic; -karras spaces the noise levels more finely
  near the end. "model default" is what the model shipped with (dpm++ for the built-in one).
- **Seed.** It picks the starting noise: same seed and settings, same picture. With several
  **Images**, image i uses seed + i.""",

    "style_transfer": """\
**Style transfer** (method gatys: Gatys, Ecker & Bethge 2016). A network's features describe the
picture. The *content loss* compares the result's features with the **Content image**'s at one layer
(what is where); the *style loss* compares their Gram matrices with the **Style image**'s at several.

- **Gram matrix.** For each pair of feature channels, how strongly they fire together, averaged over
  all positions. Position is averaged away, so what is left is texture and palette (which strokes,
  colours and patterns occur), not where they are.
- **Features.** VGG19, an image classifier, when its weights are downloaded. Offline, a fixed bank
  of random multi-scale filters (4 scales, plus 1×1 filters for colour): untrained random filters
  already carry texture, and their Gram matrices synthesise convincing textures (Ustyuzhaninov et
  al. 2016).
- **Optimisation.** The pixels themselves are what is trained. Starting from the content image
  (plus a little noise from the **Seed**), Adam changes them for **Steps** steps to lower
  content loss + w · style loss. The plot and the gallery show the losses and the picture as it goes.
- **Strength** sets w = 10^(4·strength − 1): 0 → 0.1 (barely touched), 0.5 → 10, 1 → 1000 (mostly
  the style's texture). **Keep the content's colours** keeps the result's brightness but the
  content's colours (luminance-only transfer).
- **img2img** (**Method**), the diffusion alternative: noise the content image part of the way, then
  let a text-to-image model denoise it towards the **Style prompt** (SDEdit). There **Strength** is
  the share of the noise schedule redrawn: low keeps the layout, high redraws more freely.""",

    "gan_interpolation": """\
**GAN.** Two networks train against each other: the *generator* turns a random latent vector into a
picture, the *discriminator* tries to tell its pictures from real ones, and the generator learns from
the discriminator's verdicts. Only the generator is needed to draw (and only it is shipped).

- **Latent space.** Each seed (**Seed A**, **Seed B**) draws a latent vector z from a standard
  Gaussian (64 numbers for the built-in generator). Nearby vectors give similar pictures, so the
  **Frames** walk from seed A's z to seed B's and one picture morphs into the other.
- **slerp vs lerp** (**Path**). In d dimensions a Gaussian vector's length is almost always close to
  √d (8 for d = 64): the samples live near a shell. lerp, the straight line, cuts inside it: halfway
  between two seeds the length is about √(d/2), 0.71 of the usual, where the generator saw few
  latents (often washed-out pictures). slerp follows the sphere and keeps the length.
- **Codes** (the built-in generator). The angle of z's first two numbers picks one of the 20 training
  colour×shape combinations (the circle is cut into 20 equal sectors), the angle of the next two one
  of the 3 backgrounds; the other numbers place and size the shape. Each frame is captioned with what
  its codes name. During training the discriminator is told the same classes, so it can punish a
  green square that looks orange: a *class-conditional* GAN, with the class read from z itself.
- **Truncation** multiplies z by a factor below 1, pulling it towards the mean: more typical, often
  cleaner pictures, but less variety. It keeps z's angles, so it keeps the classes.
- **Mode collapse.** A generator can beat its discriminator by drawing only a few kinds of picture
  well. The built-in model's card measures coverage: among 512 samples judged by the project's
  checker, how many of the 20 training colour×shape combinations appear. (An unconditional version
  of it dropped green altogether; the codes make every combination equally likely.)""",

    "vae_reconstruction": """\
**VAE** (variational autoencoder). Latent diffusion models work in its latent space.

- **Encoder.** It squeezes the image into a small grid of latents (the built-in autoencoder:
  64×64×3 → 16×16×4; Stable Diffusion's: 8 times smaller each side, 4 channels). For each latent
  number it outputs a distribution: a mean μ and a variance σ².
- **Reparameterisation.** In training a latent is drawn as z = μ + σ·ε with ε from N(0, 1), so the
  gradient flows through μ and σ despite the randomness. This tab decodes the mean μ: the same
  result every run.
- **Decoder.** It draws the image back from the latents. The **Error per pixel** map shows what was lost.
- **Training loss** = reconstruction loss (how far the output is from the input) + a KL term (how
  far each latent distribution is from N(0, 1)). The KL keeps the latent space smooth and well
  scaled; a tiny KL weight (1e-6 for the built-in VAE and for Stable Diffusion's) favours sharp
  reconstructions, since a diffusion model, not plain sampling, then produces the latents.
- **Compression ratio:** numbers in the image ÷ numbers in the latents (12× for 64×64×3 → 16×16×4,
  48× for 8 times down). A count of values, not a file size: the latents are floats.
- **PSNR** = 10·log10(peak² / mean squared error), in dB: higher is better, +6 dB is half the error
  (as an RMS). **SSIM** compares local brightness, contrast and structure in small windows: 1 is
  identical. Both are in the **Metrics** box.""",
}

JUDGING = """\
**How results are judged.** Four questions:
- *Quality*: is it a clean, plausible picture?
- *Match to the prompt*: does it show what was asked?
- *Diversity*: do different seeds give different pictures, covering everything the training data
  had (no mode collapse)?
- *Controllability*: do the settings do what they say (a position word moves the shape, **Strength**
  adds style)?

Large models are usually scored with FID (quality and diversity against real pictures), CLIP score
(match to the prompt) and people's preferences. The built-in models draw a known world, so this
project judges their pictures with a checker of its own (`genart_playground/data/checker.py`): pixel
rules, no learned parts, that read each 64×64 picture's background, colour, shape, size and position,
and whether it is *clean* (one object, a flat background, an object of one colour). The figures in
the model cards (`genart_playground/builtin/*/README.md`, measured with `bench/quality.py`; see the
cards for the current ones):
- **shapes-t2i** (text to image): colour and shape right for 98.1 % of prompts on the training
  combinations and 93.8 % on 4 held-out ones it never saw; background and position 100 %; 97.5 %
  clean. Position words needed a second training stage on the noisiest steps, where the layout of a
  picture is decided (the card tells the story). Its VAE: 31.4 dB PSNR on unseen pictures.
- **shapes-gan**: 96.5 % clean samples (the goal is 90 %) and all 20 training colour×shape
  combinations among 512 samples (coverage, the mode-collapse check); 91 % show exactly the colour,
  shape and background their codes name. An unconditional version managed 68 % and never drew green.
- Style transfer has no checker: its loss curves show how closely content and style were matched."""


def how_it_works(task: str) -> gr.Accordion:
    with gr.Accordion("How it works", open=False) as panel:
        gr.Markdown(TEXT[task])
        with gr.Accordion("How results are judged", open=False):
            gr.Markdown(JUDGING)
    return panel
