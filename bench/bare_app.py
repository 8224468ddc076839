"""The baseline for app start-up: an empty gr.Blocks app, launched the same way as app.py."""

import gradio as gr

with gr.Blocks() as demo:
    gr.Markdown("bare")

demo.launch()
