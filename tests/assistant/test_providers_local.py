"""The local transformers provider, wired to a tiny random-weight GPT-2 built offline in a temporary folder.

The model's output is noise: these tests check loading, greedy completion, streaming and token counts.
"""

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from assistant.providers import router
from assistant.providers.base import ProviderError
from assistant.providers.local import LocalLMProvider
from tests.assistant.fake_openai import drill_request


def vocabulary() -> list[str]:
    """Return every word and punctuation mark of the test request, so the model sees few unknown tokens."""
    request = drill_request()
    text = f"{request.system} {request.prompt} answer json schema object"
    return sorted({w for w, _ in pre_tokenizers.Whitespace().pre_tokenize_str(text.lower())})


def build_tiny_lm(folder, *, chat_template: str | None = None) -> str:
    """Save a word-level tokenizer and a 1-layer GPT-2 with random (seeded) weights to `folder`."""
    vocab = {token: i for i, token in enumerate(["[UNK]", "[PAD]", "[EOS]", *vocabulary()])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=128, n_embd=16, n_layer=1, n_head=2, bos_token_id=2, eos_token_id=2
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return build_tiny_lm(tmp_path_factory.mktemp("tiny-lm"))


def test_providers_local__complete_is_greedy_and_counts_tokens(tiny_lm):
    provider = LocalLMProvider(path=tiny_lm)
    provider.warm_up()
    request = drill_request(max_tokens=6)
    prompt = AutoTokenizer.from_pretrained(tiny_lm)(f"{request.system}\n\n{request.prompt}\n")["input_ids"]

    first = provider.complete(request)
    second = provider.complete(request)

    assert first == second  # greedy: the same draft every time
    assert (first.provider, first.model) == ("local", provider.model)
    assert first.prompt_tokens == len(prompt)
    assert 1 <= first.completion_tokens <= 6


def test_providers_local__stream_yields_the_same_draft_as_complete(tiny_lm):
    provider = LocalLMProvider(path=tiny_lm)
    request = drill_request(max_tokens=6)

    completion = provider.complete(request)
    stream = provider.stream(request)
    deltas = list(stream)

    assert deltas and "".join(deltas) == completion.text
    assert (stream.prompt_tokens, stream.completion_tokens) == (completion.prompt_tokens, completion.completion_tokens)


def test_providers_local__abandoned_stream_stops_generating(tiny_lm):
    stream = LocalLMProvider(path=tiny_lm).stream(drill_request(max_tokens=100))

    first = next(stream)
    stream.close()

    assert first
    with pytest.raises(StopIteration):
        next(stream)


def test_providers_local__chat_template_formats_the_prompt(tmp_path):
    path = build_tiny_lm(tmp_path, chat_template="{% for m in messages %}{{ m['content'] }} {% endfor %}answer")
    request = drill_request(max_tokens=3)
    tokenizer = AutoTokenizer.from_pretrained(path)
    expected = tokenizer(f"{request.system} {request.prompt} answer")["input_ids"]

    completion = LocalLMProvider(path=path).complete(request)

    assert completion.prompt_tokens == len(expected)
    assert 1 <= completion.completion_tokens <= 3


def test_providers_local__prompt_longer_than_the_window_is_refused(tiny_lm):
    request = drill_request(prompt="the drill " * 100)

    with pytest.raises(ProviderError, match="fills the window"):
        LocalLMProvider(path=tiny_lm).complete(request)


def test_providers_local__missing_model_folder_is_a_provider_error(tmp_path):
    provider = LocalLMProvider(path=str(tmp_path / "absent"))

    with pytest.raises(ProviderError, match="cannot load a causal LM from"):
        provider.warm_up()


def test_providers_local__router_serves_a_capability_from_it(settings, tiny_lm):
    settings.ASSISTANT_PROVIDERS = {
        **settings.ASSISTANT_PROVIDERS,
        "local": {"class": "assistant.providers.local.LocalLMProvider", "name": "local", "path": tiny_lm},
    }
    settings.ASSISTANT_ROUTES = {"summarize": "local"}
    router.warm_up()

    decision = router.route(capability="summarize", risk="low", confidence=0.9, tenant_id=1)
    completion = router.complete(decision, drill_request(capability="summarize", max_tokens=4), tenant_id=1)

    assert decision.reason == "summarize: local"
    assert completion.provider == "local" and "fallback_from" not in completion.extra
