"""Fine-tune the cross-encoder on labelled pairs within a time budget (binary cross-entropy on one logit)."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.relevance.datasets import RelevanceSet
from knowledge.relevance.scoring import encode_pairs

NEGATIVES_PER_QUESTION = 4  # semiPQA judges ~14 attributes per question: keep the classes closer to balanced
WARMUP_SHARE = 0.06
Pair = tuple[str, str, int]


@dataclass(frozen=True)
class TrainConfig:
    batch: int = 16
    lr: float = 3e-5
    epochs: int = 3
    max_steps: int | None = None
    seed: int = 13


@dataclass(frozen=True)
class TrainStats:
    steps: int
    pairs_seen: int
    seconds: float
    last_loss: float
    stopped_by: str  # "epochs", "max_steps" or "time"

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / self.steps if self.steps else 0.0


def training_pairs(sets: list[RelevanceSet], split: dict, seed: int) -> list[Pair]:
    """Every judged positive of the train units' questions and up to NEGATIVES_PER_QUESTION negatives each."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for data in sets:
        train_units = set(split[data.name]["train"])
        for question in sorted(data.questions.values(), key=lambda q: q.id):
            if question.unit not in train_units:
                continue
            positives = sorted(pid for pid, label in question.judged.items() if label >= 1)
            negatives = sorted(pid for pid, label in question.judged.items() if label < 1)
            negatives = rng.sample(negatives, min(NEGATIVES_PER_QUESTION, len(negatives)))
            pairs += [(question.text, data.passages[pid], 1) for pid in positives]
            pairs += [(question.text, data.passages[pid], 0) for pid in negatives]
    rng.shuffle(pairs)
    return pairs


def train(model, tokenizer, pairs: list[Pair], config: TrainConfig, out_of_time: Callable[[float], bool], progress):
    """Train in place until the epochs, `config.max_steps` or the time budget (asked with the mean step time)
    run out; `progress` is a tqdm-like factory."""
    import torch

    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    steps_per_epoch = -(-len(pairs) // config.batch)
    planned = min(config.max_steps or 10**9, steps_per_epoch * config.epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    warmup = max(1, int(planned * WARMUP_SHARE))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.1, (planned - step) / max(1, planned - warmup)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    started, step, loss_value, stopped_by = time.monotonic(), 0, float("nan"), "epochs"
    bar = progress(total=planned, desc="training", unit="step")
    for _ in range(config.epochs):
        order = list(pairs)
        rng.shuffle(order)
        for start in range(0, len(order), config.batch):
            batch = order[start : start + config.batch]
            features = encode_pairs(tokenizer, [q for q, _, _ in batch], [p for _, p, _ in batch], "pt")
            labels = torch.tensor([float(label) for _, _, label in batch])
            loss = loss_fn(model(**features).logits.reshape(-1), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step, loss_value = step + 1, float(loss.detach())
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.3f}")
            if step >= planned:
                stopped_by = "max_steps" if config.max_steps and step >= config.max_steps else "epochs"
                break
            if out_of_time((time.monotonic() - started) / step):
                stopped_by = "time"
                break
        if stopped_by != "epochs" or step >= planned:
            break
    bar.close()
    model.eval()
    seconds = time.monotonic() - started
    return TrainStats(step, min(step * config.batch, len(pairs) * config.epochs), seconds, loss_value, stopped_by)
