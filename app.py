"""GenArt Playground: assemble the tabs and launch.

Serves on http://127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
"""

from genart_playground.ui.app import build_demo, launch

if __name__ == "__main__":
    launch(build_demo())
