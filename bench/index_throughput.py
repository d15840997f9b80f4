"""Index throughput: one worker indexes a whole catalog, against raw encoding of the same texts in this process.

Own data folder var/bench/index-throughput, wiped at the start: nothing indexed before can lend a vector
(vectors are reused by content hash), so every text is really encoded. The catalog (the demo; --smoke: a
small factory-built tenant) is loaded with no worker running and its queued tasks dropped; `raw_per_s`
encodes the distinct texts the indexer will embed with SentenceTransformer.encode here; then a worker
indexes every source. `encoded` counts the texts the indexer embedded (distinct content hashes), `chunks`
the leaf chunks written; `ratio_to_raw` compares their encoding rates.
Run: .venv/bin/python bench/index_throughput.py --out FILE.json [--smoke]
"""

import sys
import time

from _stack import Workers, bench_arguments, own_folder, pending_count, run, setup_django, wait_until, write_report


def leaf_texts() -> dict[str, str]:
    """The texts the indexer embeds, by content hash: every leaf of every source's current passages."""
    from tqdm import tqdm

    from knowledge.services.indexing import chunk_content_hash
    from knowledge.sources import SOURCES

    texts = {}
    for spec in SOURCES.values():
        for source in tqdm(spec.queryset().iterator(chunk_size=500), desc=f"texts: {spec.kind}", leave=False):
            for passage in spec.passages(source):
                for draft in passage.drafts:
                    for leaf in draft.children or [draft]:
                        texts[chunk_content_hash(passage.title, leaf.text)] = f"{passage.title}\n{leaf.text}"
    return texts


def raw_rate(texts: list[str]) -> float:
    """Texts per second of SentenceTransformer.encode itself, as a caller of the model would use it."""
    from knowledge import embedding

    model = embedding.encoder(embedding.default_model_path())
    options = dict(batch_size=embedding.ENCODE_BATCH, normalize_embeddings=True, show_progress_bar=False)
    model.encode(texts[:64], **options)  # warm
    start = time.perf_counter()
    model.encode(texts, **options)
    return len(texts) / (time.perf_counter() - start)


def load_catalog(env: dict, smoke: bool) -> None:
    """Load the catalog with no worker running, and drop the indexing tasks its commits queued."""
    from config.celery import app

    if smoke:
        from _smoke import smoke_catalog

        smoke_catalog()
    else:
        run([sys.executable, "manage.py", "seed_demo"], env)
    app.control.purge()


def index_everything() -> float:
    """Enqueue every source for the running worker; return the seconds until none is pending."""
    from knowledge.services.indexing import index_enqueue
    from knowledge.sources import SOURCES

    start = time.perf_counter()
    for kind, spec in SOURCES.items():
        index_enqueue(kind, list(spec.model.objects.values_list("pk", flat=True)))
    wait_until(lambda: pending_count() == 0, 1800, "indexing", every=0.25)
    return time.perf_counter() - start


def main() -> None:
    args = bench_arguments(__doc__).parse_args()
    own_folder("index-throughput", smoke=args.smoke)
    env = setup_django()
    from knowledge.models import Chunk, ChunkEmbedding
    from knowledge.sources import SOURCES

    load_catalog(env, args.smoke)
    texts = list(leaf_texts().values())
    raw_per_s = raw_rate(texts)
    workers = Workers(env, "bench-throughput").start(beat=False)
    try:
        elapsed = index_everything()
    finally:
        workers.stop()
    embedded = ChunkEmbedding.objects.values("chunk__content_hash").distinct().count()
    figures = {
        "sources": sum(spec.model.objects.count() for spec in SOURCES.values()),
        "chunks": Chunk.objects.filter(is_leaf=True, retired_at__isnull=True).count(),
        "encoded": embedded,
        "texts_raw": len(texts),
        "elapsed_s": round(elapsed, 1),
        "chunks_per_s": round(ChunkEmbedding.objects.count() / elapsed, 1),
        "encoded_per_s": round(embedded / elapsed, 1),
        "raw_per_s": round(raw_per_s, 1),
        "ratio_to_raw": round(embedded / elapsed / raw_per_s, 3),
    }
    write_report(figures, args.out)


if __name__ == "__main__":
    main()
