"""One bridge from a long run to a streaming Gradio handler: the run works in a thread of its own and
hands each step over; the handler (a generator) yields partial updates as they come.

    stream = Streamed(lambda progress, on_step: adapter(..., progress=progress, on_step=on_step), report,
                      name="style-transfer")
    for step in stream:            # each on_step(...)'s arguments, as a tuple
        yield partial_update(step)
    result = stream.result

When the handler stops early (the user cancelled, the browser went away: Gradio closes the
generator), the run stops at its next step or progress report.
"""

import contextvars
import queue
import threading

from .. import serving


class Streamed:
    def __init__(self, work, report, *, name: str = "streamed-run"):
        self.work, self.report, self.name = work, report, name
        self.result = None
        self._updates: queue.Queue = queue.Queue()
        self._stopped = threading.Event()  # set when the consumer ends early: the worker stops at its next step

    def _check_stopped(self):
        if self._stopped.is_set():
            raise serving.Cancelled("Cancelled.")

    def _progress(self, fraction, message=""):
        self._check_stopped()
        self.report(fraction, message)

    def _on_step(self, *args):
        self._check_stopped()
        self._updates.put(("step", args))

    def _run(self):
        try:
            self._updates.put(("done", self.work(self._progress, self._on_step)))
        except BaseException as error:  # noqa: BLE001  (handed to the consumer, which raises it)
            self._updates.put(("error", error))

    def __iter__(self):
        # The context carries Gradio's event (progress bar, warnings) into the worker thread.
        worker = threading.Thread(target=contextvars.copy_context().run, args=(self._run,), name=self.name,
                                  daemon=True)
        worker.start()
        try:
            while True:
                kind, value = self._updates.get()
                if kind == "error":
                    raise value
                if kind == "done":
                    self.result = value
                    return
                yield value
        finally:
            self._stopped.set()
