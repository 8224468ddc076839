"""How each model works, in a few correct paragraphs beside the controls that show it.

Each family writes its own text (`Family.explanation`, in families/); control names in **bold** are
the labels on screen. Each tab calls `how_it_works(family_id)` once; how results are judged is
shared by all.
"""

import gradio as gr

from .. import families

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
- Style transfer has no checker: its loss curves show how closely content and style were matched.

The *Evaluation lab* tab measures all four on any text-to-image or GAN model: FID, KID, precision and
recall in the features of a shapes-world classifier (builtin/shapes-features), the checker's readings
against the prompt, diversity and mode collapse, and one-word changes for controllability."""


def text(family_id: str) -> str:
    return families.by_id(family_id).explanation


def how_it_works(family_id: str) -> gr.Accordion:
    with gr.Accordion("How it works", open=False) as panel:
        gr.Markdown(text(family_id))
        with gr.Accordion("How results are judged", open=False):
            gr.Markdown(JUDGING)
    return panel
