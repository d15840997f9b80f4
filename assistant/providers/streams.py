"""A stream of text deltas that also says who produced it and, once exhausted, how many tokens it took."""

from collections.abc import Callable, Iterator


class TextStream(Iterator[str]):
    """Iterate text deltas; `provider`, `model`, token counts and `extra` are final once iteration ends.

    `produce(stream)` is a generator function that yields the deltas and fills in the counts on `stream`.
    Closing the stream (or dropping it) closes that generator, so its `finally` blocks release resources.
    """

    def __init__(self, provider: str, model: str, produce: Callable[["TextStream"], Iterator[str]]):
        self.provider = provider
        self.model = model
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.extra: dict = {}
        self._deltas = produce(self)

    def __iter__(self) -> "TextStream":
        return self

    def __next__(self) -> str:
        return next(self._deltas)

    def close(self) -> None:
        self._deltas.close()
