"""Overload: a full queue answers "busy", each lane's limit holds, a short job does not wait behind long
ones, errors and cancels free the slot.

The app is build_demo() with a small queue (QUEUE_SIZE) and two slots per lane (CONCURRENCY), served on
loopback and driven through gradio_client. The tiny pipeline's UNet is swapped for a wrapper that
counts the denoising steps running at once and can hold them, so timing is in the test's hands.
"""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

QUEUE_SIZE = 3
CONCURRENCY = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def small_app(tiny_t2i, tiny_gan):
    from genart_playground import settings
    from genart_playground.ui.app import build_demo, launch

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "QUEUE_SIZE", QUEUE_SIZE)
        patch.setattr(settings, "CONCURRENCY", CONCURRENCY)
        demo = build_demo()
    launch(demo, prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield demo
    demo.close()


@pytest.fixture
def client(small_app, tmp_path):
    from gradio_client import Client

    return Client(small_app.local_url, verbose=False, analytics_enabled=False, download_files=str(tmp_path))


class InFlight:
    """How many probed forwards run at once, across models; a gate that can hold them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.released = threading.Event()
        self.released.set()


class Probe:
    """Stands in for a model's forward: counts its calls, can fail once, slow down or wait."""

    def __init__(self, forward, in_flight: InFlight):
        self.forward, self.in_flight = forward, in_flight
        self.calls = 0
        self.delay = 0.0
        self.fail_next: Exception | None = None

    def __call__(self, *args, **kwargs):
        state = self.in_flight
        with state.lock:
            self.calls += 1
            state.running += 1
            state.most = max(state.most, state.running)
            error, self.fail_next = self.fail_next, None
        try:
            if error is not None:
                raise error
            state.released.wait(30)
            time.sleep(self.delay)
            return self.forward(*args, **kwargs)
        finally:
            with state.lock:
                state.running -= 1

    def wait_for_calls(self, n: int, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while self.calls < n:
            assert time.monotonic() < end, f"only {self.calls} of {n} calls arrived"
            time.sleep(0.01)


@pytest.fixture
def probes(tiny_t2i, tiny_gan):
    """Probes on the cached tiny UNet and GAN generator, sharing one count of calls in flight."""
    from types import SimpleNamespace

    from genart_playground.models.cache import cache

    unet, gan = cache.load("text_to_image", tiny_t2i).unet, cache.load("gan_interpolation", tiny_gan)
    in_flight = InFlight()
    unet.forward = Probe(unet.forward, in_flight)
    gan.forward = Probe(gan.forward, in_flight)
    yield SimpleNamespace(unet=unet.forward, gan=gan.forward, in_flight=in_flight)
    in_flight.released.set()
    del unet.forward, gan.forward  # back to the classes' forward


def t2i_args(model, *, steps=None):
    return ("a red circle", "", model, "model default", 1, steps, None, None, None, 0)


def page_data(model, *, steps=None) -> list:
    """What the page itself sends to /queue/join: every input of the event, its server-side state (the
    token sampler's settings) as null, as a browser does; gradio_client and /call fill state in."""
    return [*t2i_args(model, steps=steps), None]


def test_a_full_queue_answers_busy_and_the_rest_complete(client, probes, tiny_t2i, tiny_gan):
    from gradio_client.utils import QueueError

    args = t2i_args(tiny_t2i)
    probes.in_flight.released.clear()  # hold every model call
    # Both slots of the long lane busy (the pipeline's lock lets one denoise at a time: the other waits
    # for it inside its slot), the queue empty.
    running = [client.submit(*args, api_name="/text_to_image") for _ in range(CONCURRENCY)]
    probes.unet.wait_for_calls(1)
    time.sleep(1.0)  # the second has taken its slot and waits for the pipeline

    def submit_and_wait(_):
        job = client.submit(*args, api_name="/text_to_image")
        try:
            return job.result(timeout=60)
        except QueueError as error:
            return error

    with ThreadPoolExecutor(QUEUE_SIZE + 3) as pool:
        answers = pool.map(submit_and_wait, range(QUEUE_SIZE + 3))
        time.sleep(1.0)  # every request has reached the server and been queued or refused
        probes.in_flight.released.set()
        answers = list(answers)
    busy = [a for a in answers if isinstance(a, QueueError)]
    assert len(busy) == 3, answers
    assert all("Queue is full" in str(error) for error in busy)
    done = [a for a in answers if not isinstance(a, Exception)]
    assert len(done) == QUEUE_SIZE and all(len(gallery) == 1 for gallery, _ in done)
    assert [len(job.result(timeout=60)[0]) for job in running] == [1, 1]
    assert probes.in_flight.most <= CONCURRENCY


def test_a_short_job_does_not_wait_behind_long_ones(client, probes, tiny_t2i, tiny_gan):
    """The GAN has a lane of its own (issue 14 §2): with the long lane full and a job waiting in it, a walk
    runs at once."""
    probes.gan.in_flight = InFlight()  # hold only the diffusion model's steps
    probes.in_flight.released.clear()
    long_runs = [client.submit(*t2i_args(tiny_t2i), api_name="/text_to_image") for _ in range(CONCURRENCY + 1)]
    probes.unet.wait_for_calls(1)
    time.sleep(1.0)  # the long lane's slots are taken and one job waits in its queue
    walk = client.submit(0, 1, tiny_gan, 4, "slerp", 1.0, api_name="/gan_interpolation")
    frames = walk.result(timeout=30)[0]
    assert len(frames) == 4 and all(not job.done() for job in long_runs)  # the walk is done, the long runs held
    probes.in_flight.released.set()
    assert all(len(job.result(timeout=60)[0]) == 1 for job in long_runs)


def test_a_lanes_events_never_exceed_its_concurrency_limit(client, probes, tiny_gan):
    probes.gan.delay = 0.2  # long enough for walks to overlap if they could
    jobs = [client.submit(seed, seed + 1, tiny_gan, 4, "slerp", 1.0, api_name="/gan_interpolation")
            for seed in range(QUEUE_SIZE)]
    for job in jobs:
        job.result(timeout=60)
    assert probes.in_flight.most == CONCURRENCY  # they did overlap, up to the lane's limit and no further


def test_a_job_that_raises_does_not_block_the_next(client, probes, tiny_t2i):
    from gradio_client.exceptions import AppError

    args = t2i_args(tiny_t2i)
    probes.unet.fail_next = RuntimeError("a bug in the model")
    with pytest.raises(AppError):
        client.predict(*args, api_name="/text_to_image")
    gallery, metadata = client.predict(*args, api_name="/text_to_image")
    assert len(gallery) == 1 and probes.in_flight.running == 0  # the failed call left no model call behind


def test_a_cancelled_job_stops_within_two_steps_and_the_next_starts_at_once(client, probes, tiny_t2i):
    args = t2i_args(tiny_t2i, steps=100)  # 100 steps of 0.1 s: 10 s if nothing stops it
    probes.unet.delay = 0.1
    job = client.submit(*args, api_name="/text_to_image")
    probes.unet.wait_for_calls(3)
    steps_at_cancel = probes.unet.calls
    job.cancel()  # returns once the server has stopped the event (/cancel awaits it)
    steps_after_cancel = probes.unet.calls
    probes.unet.delay = 0.0
    follow_up = client.submit(*t2i_args(tiny_t2i, steps=2), api_name="/text_to_image")
    probes.unet.wait_for_calls(steps_after_cancel + 1)
    assert len(follow_up.result(timeout=30)[0]) == 1
    assert steps_after_cancel - steps_at_cancel <= 2  # the cancelled job's steps once cancel was asked
    assert probes.unet.calls == steps_after_cancel + 2  # and none later: only the follow-up's two


def test_an_abandoned_job_stops_instead_of_running_to_the_end(small_app, client, probes, tiny_t2i):
    """A /queue/join whose results nobody reads: its client closes the stream (a closed tab), and the
    job stops instead of running its 100 steps to the end."""
    import uuid

    import httpx

    base, session = small_app.local_url.rstrip("/"), uuid.uuid4().hex
    fn_index = next(i for i, fn in small_app.fns.items() if fn.api_name == "text_to_image")
    probes.unet.delay = 0.1
    httpx.post(f"{base}/gradio_api/queue/join", json={"data": page_data(tiny_t2i, steps=100),
                                                      "fn_index": fn_index, "session_hash": session}, timeout=30)
    with httpx.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}, timeout=30) as stream:
        lines = stream.iter_lines()
        next(lines)
        probes.unet.wait_for_calls(3)
    # The stream is closed: Gradio notices at its next check (about a second) and the job at its next step.
    deadline = time.monotonic() + 10
    steps = probes.unet.calls
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if probes.unet.calls == steps:
            break
        steps = probes.unet.calls
    assert probes.unet.calls < 50, "the abandoned job ran on"
    probes.unet.delay = 0.0
    gallery, metadata = client.predict(*t2i_args(tiny_t2i, steps=2), api_name="/text_to_image")
    assert len(gallery) == 1 and probes.in_flight.running == 0


def test_a_public_visitor_has_one_model_job_at_a_time(small_app, probes, tiny_t2i, monkeypatch):
    """Public, behind a proxy the operator trusts (loopback here): a second model job from the same visitor
    (by the proxy's X-Forwarded-For) gets HTTP 429 while the first waits or runs; another visitor's is queued."""
    import uuid

    import httpx

    from genart_playground import settings
    from genart_playground.ui.request_limits import BUSY_VISITOR

    monkeypatch.setattr(settings, "PUBLIC", True)
    monkeypatch.setattr(settings, "TRUSTED_PROXIES", ("127.0.0.1",))
    base = small_app.local_url.rstrip("/")
    fn_index = next(i for i, fn in small_app.fns.items() if fn.api_name == "text_to_image")

    def join(visitor):
        return httpx.post(f"{base}/gradio_api/queue/join", headers={"x-forwarded-for": visitor}, timeout=30,
                          json={"data": page_data(tiny_t2i), "fn_index": fn_index,
                                "session_hash": uuid.uuid4().hex})

    probes.in_flight.released.clear()  # the first job holds its model call
    try:
        assert join("203.0.113.7").status_code == 200
        probes.unet.wait_for_calls(1)
        second = join("203.0.113.7")
        assert second.status_code == 429 and second.json()["error"] == BUSY_VISITOR
        assert join("198.51.100.2").status_code == 200  # another visitor
        status = httpx.post(f"{base}/gradio_api/call/text_to_image", json={"data": list(t2i_args(tiny_t2i))},
                            headers={"x-forwarded-for": "203.0.113.7"}, timeout=30)
        assert status.status_code == 429  # the /call route too
    finally:
        probes.in_flight.released.set()
    deadline = time.monotonic() + 30
    while probes.in_flight.running and time.monotonic() < deadline:
        time.sleep(0.05)
    monkeypatch.setattr(settings, "PUBLIC", False)


def test_the_visitor_rule_is_not_dodged(small_app, probes, tiny_t2i, monkeypatch):
    """Issue 30 §3: every way a red team got a second job past the rule while the first was running, sent
    over loopback as a proxy on this machine would (uvicorn, like the rule, believes X-Forwarded-For from
    loopback only: FORWARDED_ALLOW_IPS). Who a visitor is from elsewhere: test_a_visitor_is_what_the_server_can_vouch_for."""
    import uuid

    import httpx

    from genart_playground import settings

    monkeypatch.setattr(settings, "PUBLIC", True)
    monkeypatch.setattr(settings, "TRUSTED_PROXIES", ("127.0.0.1",))
    base = small_app.local_url.rstrip("/")
    fn_index = next(i for i, fn in small_app.fns.items() if fn.api_name == "text_to_image")
    real = {"x-forwarded-for": "203.0.113.70"}  # addresses no other test uses: their jobs may still be finishing

    def join(index=fn_index, headers=real):
        return httpx.post(f"{base}/gradio_api/queue/join", headers=headers, timeout=30,
                          json={"data": page_data(tiny_t2i), "fn_index": index, "session_hash": uuid.uuid4().hex})

    def call(path):
        return httpx.post(f"{base}/gradio_api/{path}", json={"data": list(t2i_args(tiny_t2i))}, headers=real,
                          timeout=30)

    dodges = {
        "a trailing slash": lambda: call("call/text_to_image/"),
        "/call/v2/": lambda: call("call/v2/text_to_image"),
        "fn_index as a string": lambda: join(str(fn_index)),
        "fn_index as a float": lambda: join(float(fn_index)),
        "an address of its own in front": lambda: join(headers={"x-forwarded-for": "1.2.3.4, 203.0.113.70"}),
    }
    probes.in_flight.released.clear()  # the first job holds its model call
    try:
        assert join().status_code == 200
        probes.unet.wait_for_calls(1)
        answers = {name: send().status_code for name, send in dodges.items()}
        assert answers == {name: 429 for name in dodges}
        assert join(headers={"x-forwarded-for": "203.0.113.70, 198.51.100.77"}).status_code == 200  # someone else
    finally:
        probes.in_flight.released.set()
    deadline = time.monotonic() + 30
    while probes.in_flight.running and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("proxies, peer, forwarded, visitor", [
    ((), "192.0.2.5", None, "192.0.2.5"),
    ((), "192.0.2.5", "198.51.100.9", "192.0.2.5"),  # another X-Forwarded-For, from a client: not believed
    ((), "192.0.2.5", "1.2.3.4, 198.51.100.9", "192.0.2.5"),
    (("10.0.0.0/8",), "10.1.2.3", "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the proxy appended the real one
    (("10.0.0.0/8",), "10.1.2.3", "203.0.113.7, 10.9.9.9", "203.0.113.7"),  # two proxies of ours
    (("10.0.0.0/8",), "192.0.2.5", "203.0.113.7", "192.0.2.5"),  # not through the proxy: the connection
    (("*",), "10.1.2.3", "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # a Space: the rightmost, never the leftmost
    (("*",), "10.1.2.3", None, "10.1.2.3"),
])
def test_a_visitor_is_what_the_server_can_vouch_for(monkeypatch, proxies, peer, forwarded, visitor):
    from genart_playground import settings
    from genart_playground.ui.request_limits import visitor_of

    monkeypatch.setattr(settings, "TRUSTED_PROXIES", proxies)
    headers = {b"x-forwarded-for": forwarded.encode()} if forwarded else {}
    assert visitor_of(headers, (peer, 5000)) == visitor


def test_a_join_nested_too_deeply_gets_a_400_with_a_message(small_app, monkeypatch):
    import httpx

    from genart_playground import settings
    from genart_playground.ui.request_limits import TOO_DEEP

    monkeypatch.setattr(settings, "PUBLIC", True)
    response = httpx.post(small_app.local_url.rstrip("/") + "/gradio_api/queue/join", content=b"[" * 200_000,
                          headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 400 and response.json()["error"] == TOO_DEEP


def test_public_work_is_bounded_by_steps_images_and_pixels(tiny_t2i, monkeypatch, fresh_cache):
    from genart_playground import limits, text_to_image

    monkeypatch.setattr(limits, "PUBLIC", True)
    # Each setting within its own cap, the whole far over a CPU's budget.
    with pytest.raises(ValueError, match="step-pixels"):
        text_to_image("a red circle", model=tiny_t2i, steps=limits.MAX_STEPS, num_images=limits.MAX_IMAGES,
                      width=512, height=512)
    assert fresh_cache.loads == 0  # refused before any model work
    text_to_image("a red circle", model=tiny_t2i, steps=2)  # a small one runs
