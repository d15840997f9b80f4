"""Progress bars for the feed commands: tqdm on the command's stderr, or nothing (tests, services)."""

from tqdm import tqdm


class _Stream:
    """Let tqdm redraw its bar on a command's stderr (OutputWrapper adds a newline to every write)."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()


def bar_on(wrapper):
    """Return a progress factory drawing tqdm bars on a command's output wrapper."""
    stream = _Stream(wrapper)
    return lambda iterable=None, **kwargs: tqdm(iterable, file=stream, leave=False, **kwargs)


class _Silent:
    def __init__(self, iterable=None):
        self.iterable = iterable if iterable is not None else ()

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(iterable=None, **kwargs):
    return _Silent(iterable)
