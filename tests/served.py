"""The app as `python app.py` serves it (its launch options included), on a free loopback port: the
session's app (conftest.served_app) and an app built after a test added a family of its own."""

import socket


def serve_app():
    """Build the app from the families listed now and serve it; the caller closes it (demo.close())."""
    from genart_playground.ui.app import build_demo, launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = build_demo()
    launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    return demo
