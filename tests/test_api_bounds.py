"""Absurd parameters sent through the HTTP API are refused before any model work (no model is asked
of the cache), with a message that says what is allowed; a normal request still works afterwards.
How fast a refusal comes back is measured by bench/bench_playground.py, not asserted here.

Two layers refuse them: Gradio checks each input against its component's bounds ("Value 10000 is
greater than maximum value 150."), and the adapters check everything again (limits.py), which is
what catches what the components cannot: NaN, text length, and any caller that skips the UI.
gradio_client will not send NaN or infinity (JSON has neither), so those go as raw HTTP, the way
a hand-written client would send Python's json.dumps output.
"""

import json

import pytest

from genart_playground import limits

def t2i_args(model, **changes) -> list:
    args = {"prompt": "a red circle", "negative_prompt": "", "model": model, "scheduler": "model default",
            "num_images": 1, "steps": 2, "guidance": 3.0, "width": None, "height": None, "seed": 0}
    args.update(changes)
    return list(args.values())


def refusal(call) -> str:
    """The error message the server answered with."""
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as error:
        call()
    return str(error.value)


@pytest.fixture(scope="module")
def warm(api_client, tiny_t2i, tiny_gan):
    """One successful request per endpoint first: the refusals below meet a warm server, whose models are
    loaded, so a refusal that let model work start would show in `count_loads` as a cache request."""
    api_client.predict(*t2i_args(tiny_t2i), api_name="/text_to_image")
    api_client.predict(0, 1, tiny_gan, 2, "slerp", 1.0, api_name="/gan_interpolation")
    return api_client


@pytest.fixture
def count_loads(monkeypatch):
    """The number of model loads the server asked the cache for during the test."""
    from genart_playground.models.cache import cache

    calls = []
    original = cache.load
    monkeypatch.setattr(cache, "load", lambda *args, **kwargs: (calls.append(args), original(*args, **kwargs))[1])
    return calls


T2I_CASES = {
    "steps 10000": ({"steps": 10000}, f"maximum value {limits.MAX_STEPS}"),
    "width 100000": ({"width": 100000}, f"maximum value {limits.MAX_SIZE}"),
    "height -8": ({"height": -8}, "minimum value 0"),
    "width not a multiple of 8": ({"width": 100}, "`width` must be a multiple of 8"),
    "seed 2**64": ({"seed": 2**64}, f"maximum value {limits.MAX_SEED}"),
    "seed -1": ({"seed": -1}, "minimum value 0"),
    "guidance 1e6": ({"guidance": 1e6}, f"maximum value {limits.MAX_GUIDANCE}"),
    "1 MB prompt": ({"prompt": "x" * 2**20}, f"`prompt` must be at most {limits.MAX_PROMPT_CHARS} characters"),
    "1 MB negative prompt": ({"negative_prompt": "x" * 2**20}, f"at most {limits.MAX_PROMPT_CHARS} characters"),
    "1000 images": ({"num_images": 1000}, f"maximum value {limits.MAX_IMAGES}"),
    "unknown scheduler": ({"scheduler": "warp-drive"}, "not in the list of choices"),
}


@pytest.mark.parametrize("case", list(T2I_CASES))
def test_absurd_text_to_image_parameters_are_refused_before_model_work(warm, tiny_t2i, count_loads, case):
    changes, message = T2I_CASES[case]
    error = refusal(lambda: warm.predict(*t2i_args(tiny_t2i, **changes), api_name="/text_to_image"))
    assert message in error
    assert count_loads == []  # refused before any model was asked for


GAN_CASES = {
    "frames -5": ({"frames": -5}, "minimum value 2"),
    "frames 10000": ({"frames": 10000}, f"maximum value {limits.MAX_FRAMES}"),
    "seed 2**64": ({"seed_a": 2**64}, f"maximum value {limits.MAX_SEED}"),
    "truncation 0": ({"truncation": 0}, "minimum value 0.05"),
    "unknown path": ({"method": "teleport"}, "not in the list of choices"),
}


@pytest.mark.parametrize("case", list(GAN_CASES))
def test_absurd_gan_parameters_are_refused_before_model_work(warm, tiny_gan, count_loads, case):
    args = {"seed_a": 0, "seed_b": 1, "model": tiny_gan, "frames": 4, "method": "slerp", "truncation": 1.0}
    changes, message = GAN_CASES[case]
    args.update(changes)
    error = refusal(lambda: warm.predict(*args.values(), api_name="/gan_interpolation"))
    assert message in error
    assert count_loads == []


STYLE_CASES = {
    "steps 10000": ({"steps": 10000}, "maximum value"),
    "size 100000": ({"size": 100000}, "maximum value"),
    "gatys size over its cap": ({"size": limits.MAX_STYLE_SIZE + 8},
                                f"`size` must be between {limits.MIN_SIZE} and {limits.MAX_STYLE_SIZE}"),
    "strength 5": ({"strength": 5}, "maximum value 1"),
    "seed 2**64": ({"seed": 2**64}, f"maximum value {limits.MAX_SEED}"),
    "1 MB style prompt": ({"method": "img2img", "style_prompt": "x" * 2**20},
                          f"at most {limits.MAX_PROMPT_CHARS} characters"),
}


@pytest.mark.parametrize("case", list(STYLE_CASES))
def test_absurd_style_transfer_parameters_are_refused_before_model_work(served_app, warm, uploaded, count_loads, case):
    args = {"content": uploaded["content"], "style_image": uploaded["style"], "style_prompt": "", "method": "gatys",
            "model": "builtin/random-filters", "steps": 2, "size": 32, "strength": 0.5, "seed": 0,
            "preserve_color": False}
    changes, message = STYLE_CASES[case]
    args.update(changes)
    if args["method"] == "img2img":
        args["model"] = None
    body = json.dumps({"data": list(args.values())})
    last = raw_call(served_app, "style_transfer", body)
    assert last["event"] == "error" and message in last["data"]["error"]
    assert count_loads == []


def raw_call(app, api_name: str, body: str) -> dict:
    """POST a hand-written JSON body to /gradio_api/call/<api_name>; the final event and its data."""
    import httpx

    base = app.local_url.rstrip("/") + f"/gradio_api/call/{api_name}"
    response = httpx.post(base, content=body, headers={"content-type": "application/json"}, timeout=30)
    response.raise_for_status()
    with httpx.stream("GET", f"{base}/{response.json()['event_id']}", timeout=30) as stream:
        lines = list(stream.iter_lines())
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    data = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    return {"event": events[-1], "data": json.loads(data[-1])}


@pytest.mark.parametrize("value, message", [
    ("NaN", "`Guidance` must be a number from 0 to 30.0, got nan"),
    ("Infinity", "`Guidance` must be a number from 0 to 30.0, got inf"),
    ("-Infinity", "`Guidance` must be a number from 0 to 30.0, got -inf"),
    ("1e999", "`Guidance` must be a number from 0 to 30.0, got inf"),  # parses as infinity
])
def test_nan_and_infinite_guidance_are_refused(served_app, warm, tiny_t2i, count_loads, value, message):
    assert json.dumps(float(value.replace("1e999", "inf"))) in {"NaN", "Infinity", "-Infinity"}  # Python sends these
    body = json.dumps({"data": t2i_args(tiny_t2i, guidance="GUIDANCE")}).replace('"GUIDANCE"', value)
    last = raw_call(served_app, "text_to_image", body)
    assert last["event"] == "error" and message in last["data"]["error"]
    assert count_loads == []


def test_gradio_client_refuses_to_send_nan(warm, tiny_t2i):
    with pytest.raises(ValueError, match="not JSON compliant"):
        warm.predict(*t2i_args(tiny_t2i, guidance=float("nan")), api_name="/text_to_image")


def test_a_normal_request_works_after_the_refusals(warm, tiny_t2i, tiny_gan):
    gallery, metadata = warm.predict(*t2i_args(tiny_t2i, seed=7), api_name="/text_to_image")
    assert len(gallery) == 1 and metadata["seed"] == 7
    frames, gif, metadata = warm.predict(0, 1, tiny_gan, 3, "slerp", 1.0, api_name="/gan_interpolation")
    assert len(frames) == 3


@pytest.fixture(scope="module")
def uploaded(served_app, tmp_path_factory) -> dict[str, dict]:
    """Two 32×32 pictures uploaded to the server once, as the FileData a client sends."""
    import httpx
    import numpy as np
    from PIL import Image

    folder = tmp_path_factory.mktemp("bounds-pictures")
    rng = np.random.default_rng(0)
    files = {}
    for name in ("content", "style"):
        path = folder / f"{name}.png"
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
        response = httpx.post(served_app.local_url.rstrip("/") + "/gradio_api/upload",
                              files={"files": (path.name, path.read_bytes(), "image/png")}, timeout=30)
        files[name] = {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
    return files


MODEL_IDS = {
    "a URL": ("https://example.com/evil/model.safetensors", "looks like a URL"),
    "a hf: URL": ("hf://evil-org/model", "looks like a URL"),
    "an unregistered Hub id": ("evil-org/unregistered-model", "not in the registry"),
    "an absolute path": ("/etc", "not in the registry"),
    "a relative path": ("../../models/secret", "not in the registry"),
}


@pytest.mark.parametrize("case", list(MODEL_IDS))
def test_unregistered_model_ids_are_refused_without_network(warm, count_loads, no_network_attempts, case):
    model, message = MODEL_IDS[case]
    error = refusal(lambda: warm.predict(*t2i_args(model), api_name="/text_to_image"))
    assert message in error
    error = refusal(lambda: warm.predict(0, 1, model, 4, "slerp", 1.0, api_name="/gan_interpolation"))
    assert message in error
    assert count_loads == []


@pytest.mark.parametrize("model, message", [
    ("https://example.com/evil/model.safetensors", "looks like a URL"),
    ("/etc", "outside the allowed roots"),
    ("../../models/secret", "outside the allowed roots"),
    ("evil-org/../../x", "not a Hub id"),
])
def test_with_any_model_allowed_urls_and_outside_paths_are_still_refused(warm, count_loads, no_network_attempts,
                                                                         monkeypatch, model, message):
    from genart_playground import settings

    monkeypatch.setattr(settings, "ALLOW_ANY_MODEL", True)
    monkeypatch.setattr(settings, "MODEL_ROOTS", [])
    error = refusal(lambda: warm.predict(*t2i_args(model), api_name="/text_to_image"))
    assert message in error
    assert count_loads == []
