"""A family's tab page: its title, what it does and "How it works", built the same way for every family,
so a tab module holds only its own controls and events."""

from contextlib import contextmanager

import gradio as gr

from . import explanations


@contextmanager
def family_tab(family, *, more: str = ""):
    """`with family_tab(family):` the tab (labelled with the family's title, its id the lesson links' `tab`),
    the family's summary (and `more`, what the tab knows at build time), and its explanation."""
    with gr.Tab(family.title, id=family.id) as tab:
        gr.Markdown(family.summary + more)
        explanations.how_it_works(family.id)
        yield tab
