"""Index throughput: re-index the whole demo catalog with one worker, against raw encoding.

`raw_per_s` encodes the very texts the indexer embeds with SentenceTransformer.encode in this process;
`chunks_per_s` is what the worker achieves end to end (plan, encode, write) on the same texts.
Run: .venv/bin/python bench/index_throughput.py --out FILE.json
"""

import argparse
import sys
import time

from _stack import Workers, run, setup_django, wait_until, write_report


def leaf_texts() -> list[str]:
    """The texts the indexer embeds: every leaf of every source's current passages."""
    from tqdm import tqdm

    from knowledge.sources import SOURCES

    texts = []
    for spec in SOURCES.values():
        for source in tqdm(spec.queryset().iterator(chunk_size=500), desc=f"texts: {spec.kind}", leave=False):
            for passage in spec.passages(source):
                for draft in passage.drafts:
                    leaves = draft.children or [draft]
                    texts += [f"{passage.title}\n{leaf.text}" for leaf in leaves]
    return texts


def raw_rate(texts: list[str]) -> float:
    from knowledge import embedding

    path = embedding.default_model_path()
    embedding.encode(path, texts[:64])  # warm
    start = time.perf_counter()
    embedding.encode(path, texts)
    return len(texts) / (time.perf_counter() - start)


def reset_index() -> None:
    """Forget every chunk and vector and mark every source as never indexed."""
    from django.db import connection

    from knowledge.sources import SOURCES

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE knowledge_chunkembedding, knowledge_posting, knowledge_keywordstats, knowledge_termstats,"
            " knowledge_chunk"
        )
    for spec in SOURCES.values():
        spec.model.objects.update(indexed_hash=None, index_enqueued_at=None, index_error="")


def pending_count() -> int:
    from core.indexable import PENDING
    from knowledge.sources import SOURCES

    return sum(spec.model.objects.filter(PENDING).count() for spec in SOURCES.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out")
    args = parser.parse_args()
    env = setup_django()
    from catalog.models import Tenant
    from core.indexable import index_enqueue
    from knowledge.models import ChunkEmbedding
    from knowledge.sources import SOURCES

    if not Tenant.objects.exclude(slug__startswith="bench-").exists():
        run([sys.executable, "manage.py", "seed_demo"], env)
    workers = Workers(env, "bench-throughput").start(beat=False)
    try:
        wait_until(lambda: pending_count() == 0, 900, "the demo catalog's first indexing")
        texts = leaf_texts()
        raw_per_s = raw_rate(texts)
        reset_index()
        start = time.perf_counter()
        for kind, spec in SOURCES.items():
            index_enqueue(kind, list(spec.model.objects.values_list("pk", flat=True)))
        wait_until(lambda: pending_count() == 0, 1800, "re-indexing", every=0.25)
        elapsed = time.perf_counter() - start
    finally:
        workers.stop()
    chunks = ChunkEmbedding.objects.count()
    figures = {
        "sources": sum(spec.model.objects.count() for spec in SOURCES.values()),
        "chunks": chunks,
        "texts_raw": len(texts),
        "elapsed_s": round(elapsed, 1),
        "chunks_per_s": round(chunks / elapsed, 1),
        "raw_per_s": round(raw_per_s, 1),
        "ratio_to_raw": round(chunks / elapsed / raw_per_s, 3),
    }
    write_report(figures, args.out)


if __name__ == "__main__":
    main()
