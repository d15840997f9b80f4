"""A provider running a transformers causal language model from a local folder, on the CPU, greedily.

The model loads once per process in `warm_up()` (or on first use), never at import and never from a hub:
`local_files_only=True` with HF_HUB_OFFLINE set. Greedy decoding keeps drafts reproducible; `max_time`
bounds a generation (it stops early rather than failing), and a stream abandoned by its consumer stops
generating at the next token.
"""

import logging
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from assistant.providers.base import Completion, ProviderError, ProviderRequest
from assistant.providers.streams import TextStream

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing reaches the internet at run time
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)
_lock = threading.Lock()


@lru_cache(maxsize=2)
def _load(path: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    model.to("cpu").eval()
    return tokenizer, model


class LocalLMProvider:
    """Generate with the causal LM at `path`; `name` and the folder's name are recorded on answers."""

    def __init__(self, *, path: str, name: str = "local", timeout_s: float = 60.0):
        if not path:
            raise ValueError("a local LM provider needs the path of a model folder (LOCAL_LM_PATH)")
        self.name = name
        self.path = str(path)
        self.model = Path(path).name
        self.timeout_s = timeout_s

    def warm_up(self) -> None:
        """Load the tokenizer and weights now rather than on the first request; raise ProviderError if absent."""
        self._loaded()

    def complete(self, request: ProviderRequest) -> Completion:
        """Return the greedy continuation of the prompt."""
        import torch

        tokenizer, model = self._loaded()
        inputs, generation = self._prepare(tokenizer, model, request)
        try:
            with torch.inference_mode():
                output = model.generate(**inputs, **generation)
        except Exception as exc:  # noqa: BLE001 - any failure inside generate is this provider's failure
            raise ProviderError(f"{self.name} ({self.model}): generation failed ({type(exc).__name__})") from exc
        prompt_tokens = inputs["input_ids"].shape[1]
        new_tokens = output[0, prompt_tokens:]
        return Completion(
            text=tokenizer.decode(new_tokens, skip_special_tokens=True),
            provider=self.name,
            model=self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=int(new_tokens.shape[0]),
        )

    def stream(self, request: ProviderRequest) -> TextStream:
        """Yield decoded text as tokens are generated (generation runs in a thread beside the consumer)."""
        return TextStream(self.name, self.model, lambda out: self._deltas(request, out))

    # -- internals -------------------------------------------------------------------------------------
    def _loaded(self):
        try:
            with _lock:
                return _load(self.path)
        except Exception as exc:  # noqa: BLE001 - a missing or broken folder: say which, fall back upstream
            raise ProviderError(
                f"{self.name}: cannot load a causal LM from {self.path} ({type(exc).__name__})"
            ) from exc

    def _prepare(self, tokenizer, model, request: ProviderRequest) -> tuple[dict, dict]:
        system = request.system
        if request.json_schema is not None:  # no constrained decoding here: ask, and let the pipeline validate
            import json

            system = f"{system}\n\nReply with one JSON object matching this JSON schema:\n" + json.dumps(
                request.json_schema, sort_keys=True
            )
        if getattr(tokenizer, "chat_template", None):
            messages = [{"role": "system", "content": system}, {"role": "user", "content": request.prompt}]
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        else:
            inputs = tokenizer(f"{system}\n\n{request.prompt}\n".lstrip(), return_tensors="pt")
        inputs = {k: v for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
        prompt_tokens = inputs["input_ids"].shape[1]
        window = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
        max_new = request.max_tokens
        if window:
            if prompt_tokens >= window:
                raise ProviderError(f"{self.name} ({self.model}): the prompt ({prompt_tokens} tokens) fills the window")
            max_new = min(max_new, window - prompt_tokens)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        generation = {
            "max_new_tokens": max_new,
            "do_sample": False,
            "temperature": None,  # greedy: unset the sampling knobs a chat model's generation config may carry
            "top_p": None,
            "top_k": None,
            "max_time": self.timeout_s,
            "pad_token_id": pad,
        }
        return inputs, generation

    def _deltas(self, request: ProviderRequest, out: TextStream) -> Iterator[str]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        tokenizer, model = self._loaded()
        inputs, generation = self._prepare(tokenizer, model, request)
        cancelled = threading.Event()
        failure: list[BaseException] = []

        class Counting(TextIteratorStreamer):
            generated = 0

            def put(self, value):
                if not (self.skip_prompt and self.next_tokens_are_prompt):
                    self.generated += int(value.numel())
                super().put(value)

        class Cancel(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool)

        streamer = Counting(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout_s)

        def generate() -> None:
            try:
                with torch.inference_mode():
                    model.generate(
                        **inputs, **generation, streamer=streamer, stopping_criteria=StoppingCriteriaList([Cancel()])
                    )
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer's thread below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=generate, daemon=True, name=f"{self.name}-generate")
        worker.start()
        out.prompt_tokens = inputs["input_ids"].shape[1]
        try:
            for text in streamer:
                if text:
                    yield text
        except Exception as exc:  # noqa: BLE001 - the streamer's queue timed out: generation stalled
            raise ProviderError(f"{self.name} ({self.model}): no token within {self.timeout_s:g} s") from exc
        finally:
            cancelled.set()
        worker.join(self.timeout_s)
        out.completion_tokens = streamer.generated
        if failure:
            raise ProviderError(
                f"{self.name} ({self.model}): generation failed ({type(failure[0]).__name__})"
            ) from failure[0]
