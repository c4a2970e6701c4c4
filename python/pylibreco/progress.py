"""Progress of fit: a one-line bar on a terminal, a callback for notebooks."""
import sys
import time


class Bar:
    """Redraws one line on `stream` at most ten times a second."""

    def __init__(self, epochs, stream=None):
        self.epochs = epochs
        self.stream = stream or sys.stderr
        self.last_draw = 0.0

    def update(self, report):
        now = time.monotonic()
        done = report["step"] == report["steps"]
        if not done and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        width = 24
        filled = width * report["step"] // max(report["steps"], 1)
        self.stream.write(
            f"\repoch {report['epoch'] + 1}/{self.epochs} [{'#' * filled}{'.' * (width - filled)}]"
            f" {report['step']}/{report['steps']} loss {report['loss']:.4f}"
            f" {report['samples_per_second'] / 1e6:.2f}M samples/s")
        if done:
            self.stream.write("\n")
        self.stream.flush()


def wanted(progress):
    """Whether to draw a bar: progress=None means "on a terminal only"."""
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)
