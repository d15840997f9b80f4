"""Evaluate the retrieval legs on a BEIR-format set loaded through the normal indexing path.

The set is loaded into a fresh tenant; the previous run's tenant is deleted only after the new one
is indexed, so the indexing path finds every vector by content hash and encodes nothing twice.
"""

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from catalog.models import TITLE_MAX, Tenant
from catalog.services import tenant_create
from core.indexable import INDEX_BATCH
from knowledge import embedding
from knowledge.models import Chunk, ChunkEmbedding
from knowledge.query_encoder import encode_query
from knowledge.retrieval import metrics, relevance_blend
from knowledge.retrieval.fusion import RRF_K, reciprocal_rank_fusion
from knowledge.retrieval.fuzzy import chunk_search_fuzzy_ids
from knowledge.retrieval.keyword import BM25_B, BM25_K1, chunk_search_keyword_ids
from knowledge.retrieval.rerank import Candidate, rerankers_for
from knowledge.retrieval.vector import chunk_search_vector_by
from knowledge.selectors import ranking_for
from knowledge.services.documents import document_create
from knowledge.services.indexing import sources_index
from knowledge.services.spaces import active_space

RUN_DEPTH = 100  # documents kept per query: what recall@100 reads
CHUNK_DEPTH = 200  # chunks fetched per leg: several chunks may belong to one document
CREATE_BATCH = 500  # documents per transaction while loading


@dataclass
class BeirSet:
    name: str
    corpus: dict[str, tuple[str, str]]  # _id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass
class Loaded:
    tenant: Tenant
    seconds: float
    embedded: int = 0
    reused: int = 0
    slugs: dict[str, str] = field(default_factory=dict)  # document slug -> corpus _id


def beir_read(path: Path, limit_queries: int | None = None) -> BeirSet:
    """Read corpus.jsonl, queries.jsonl and qrels/test.tsv (with header); keep judged queries only."""
    corpus = {}
    with open(path / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(path / "qrels" / "test.tsv", encoding="utf-8") as lines:
        next(lines)
        for line in lines:
            qid, doc_id, score = line.rstrip("\n").split("\t")[:3]
            qrels[qid][doc_id] = int(score)
    queries = {}
    with open(path / "queries.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]
    if limit_queries:
        queries = dict(list(queries.items())[:limit_queries])
    return BeirSet(path.name, corpus, queries, {q: dict(qrels[q]) for q in queries})


def _slugs(ids) -> dict[str, str]:
    slugs, taken = {}, set()
    for doc_id in ids:
        slug = (slugify(doc_id) or "doc")[:100]
        if slug in taken:
            slug = f"{slug}-{len(taken)}"
        taken.add(slug)
        slugs[slug] = doc_id
    return slugs


def beir_load(data: BeirSet, slug: str) -> Loaded:
    """Load the corpus into a fresh tenant `slug` through the document service and the indexing path."""
    started = time.monotonic()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    Tenant.objects.filter(slug=slug).update(slug=f"{slug}-old-{stamp}"[:50])
    tenant = tenant_create(slug=f"{slug}-new-{stamp}"[:50], name=f"Evaluation {data.name}")
    loaded = Loaded(tenant, 0.0, slugs=_slugs(data.corpus))
    items = list(loaded.slugs.items())
    ids = []
    for start in tqdm(range(0, len(items), CREATE_BATCH), desc="documents", unit="batch"):
        with transaction.atomic():
            for doc_slug, doc_id in items[start : start + CREATE_BATCH]:
                title, text = data.corpus[doc_id]
                document = document_create(
                    tenant=tenant, slug=doc_slug, kind="guide", format="text", locale="en",
                    title=(title or doc_id)[:TITLE_MAX], body=text,
                )  # fmt: skip
                ids.append(document.pk)
    with tqdm(total=len(ids), desc="indexing", unit="doc") as bar:
        for start in range(0, len(ids), INDEX_BATCH):
            report = sources_index("doc", ids[start : start + INDEX_BATCH], drain=False)
            loaded.embedded, loaded.reused = loaded.embedded + report.embedded, loaded.reused + report.reused
            bar.update(len(ids[start : start + INDEX_BATCH]))
            bar.set_postfix(embedded=loaded.embedded, reused=loaded.reused)
    # Only now: the previous (or an interrupted) run's chunks lent their vectors to the new ones.
    Tenant.objects.filter(Q(slug__startswith=f"{slug}-old-") | Q(slug__startswith=f"{slug}-new-")).exclude(
        pk=tenant.pk
    ).delete()
    Tenant.objects.filter(pk=tenant.pk).update(slug=slug)
    tenant.slug = slug
    loaded.seconds = time.monotonic() - started
    return loaded


def _to_documents(chunk_scores, doc_of: dict[int, str], depth: int = RUN_DEPTH) -> list[str]:
    """Rank documents by their best chunk (chunk_scores are best first)."""
    ranking, seen = [], set()
    for chunk_id, _ in chunk_scores:
        doc = doc_of.get(chunk_id)
        if doc is not None and doc not in seen:
            seen.add(doc)
            ranking.append(doc)
            if len(ranking) == depth:
                break
    return ranking


@dataclass
class Runs:
    rankings: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # system -> query -> doc ids
    latencies: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, float | int | str] = field(default_factory=dict)


def leaf_vectors(tenant: Tenant, space) -> tuple[list[int], np.ndarray]:
    rows = ChunkEmbedding.objects.filter(
        space=space, chunk__tenant=tenant, chunk__retired_at__isnull=True, chunk__is_leaf=True
    ).values_list("chunk_id", "embedding")
    ids, vectors = [], []
    for chunk_id, vector in rows.iterator(chunk_size=2_000):
        ids.append(chunk_id)
        vectors.append(np.asarray(vector, dtype=np.float32))
    return ids, np.vstack(vectors) if vectors else np.zeros((0, space.dimensions), dtype=np.float32)


def run_systems(data: BeirSet, loaded: Loaded, keyword_params: list[tuple[float, float]]) -> Runs:
    """Rank every query with each leg, the fusion and the two baselines; time the legs per query."""
    tenant, runs = loaded.tenant, Runs()
    chunk_docs = Chunk.objects.filter(tenant=tenant, retired_at__isnull=True, is_leaf=True)
    doc_of = {cid: loaded.slugs[key] for cid, key in chunk_docs.values_list("pk", "source_key")}
    qids = list(data.queries)
    for k1, b in keyword_params:
        name = "keyword" if (k1, b) == (BM25_K1, BM25_B) else f"keyword_k1={k1}_b={b}"
        ranking, times = {}, []
        for qid in tqdm(qids, desc=name, unit="query"):
            t0 = time.perf_counter()
            hits = chunk_search_keyword_ids(tenant_id=tenant.pk, query=data.queries[qid], k=CHUNK_DEPTH, k1=k1, b=b)
            times.append(time.perf_counter() - t0)
            ranking[qid] = _to_documents(hits, doc_of)
        runs.rankings[name], runs.latencies[name] = ranking, times
    _vector_runs(data, loaded, doc_of, runs)
    runs.rankings["fuzzy"] = _fuzzy_run(data, tenant, doc_of)
    runs.rankings["bm25s"] = _bm25s_run(data)
    ranking = ranking_for(tenant_id=tenant.pk)  # what the tenant's storefront search fuses with
    legs = [runs.rankings[name] for name in ("keyword", "vector", "fuzzy")]
    weights = [ranking.keyword_weight, ranking.vector_weight, ranking.fuzzy_weight]
    runs.rankings["fused"] = _fuse(legs, qids, k=ranking.rrf_k, weights=weights)
    _rerank_runs(data, runs, ranking)
    baselines = [runs.rankings["bm25s"], runs.rankings["dense_exact"]]
    runs.rankings["bm25s+dense_exact_rrf"] = _fuse(baselines, qids)  # the reference: plain RRF, k 60
    # The reference given the same fusion constant and weights, so the comparison is not only about tuning.
    runs.rankings["bm25s+dense_exact_rrf_same_weights"] = _fuse(
        baselines, qids, k=ranking.rrf_k, weights=[ranking.keyword_weight, ranking.vector_weight]
    )
    runs.extra["fused.rrf_k"], runs.extra["fused.vector_weight"] = ranking.rrf_k, ranking.vector_weight
    return runs


def _fuse(rankings: list[dict], qids, k: int = RRF_K, weights=None) -> dict[str, list[str]]:
    """Fuse per query; list the keyword ranking first so that exact ties go to it."""
    return {
        q: [doc for doc, _ in reciprocal_rank_fusion([r[q] for r in rankings], k=k, weights=weights)][:RUN_DEPTH]
        for q in qids
    }


def _rerank_runs(data: BeirSet, runs: Runs, ranking) -> None:
    """Apply each re-ranker of the storefront pipeline to the fused documents, one system per re-ranker."""
    texts = {doc: f"{title}\n{text}" for doc, (title, text) in data.corpus.items()}
    for step in rerankers_for(ranking, lambda ids: {i: texts[i] for i in ids}):
        ranked = {}
        for qid in tqdm(list(data.queries), desc=step.name, unit="query"):
            fused = runs.rankings["fused"][qid]
            candidates = [Candidate(doc, 1.0 / (rank + 1)) for rank, doc in enumerate(fused)]
            ranked[qid] = [c.id for c in step.run(data.queries[qid], candidates)]
        runs.rankings[step.name] = ranked
        runs.extra[f"{step.name}.version"] = step.version


def _fuzzy_run(data: BeirSet, tenant: Tenant, doc_of: dict) -> dict[str, list[str]]:
    """The trigram leg: it matches product titles, brands and SKU codes, so a document corpus finds none."""
    return {
        qid: _to_documents(chunk_search_fuzzy_ids(tenant_id=tenant.pk, query=query, k=CHUNK_DEPTH), doc_of)
        for qid, query in tqdm(list(data.queries.items()), desc="fuzzy", unit="query")
    }


def _vector_runs(data: BeirSet, loaded: Loaded, doc_of: dict, runs: Runs) -> None:
    space = active_space()
    qids = list(data.queries)
    path = embedding.model_path_for(space)
    query_vectors = [encode_query(path, data.queries[q]) for q in qids]  # as the search API encodes them
    ids, matrix = leaf_vectors(loaded.tenant, space)
    ids_arr = np.asarray(ids)
    hnsw, exact, times, overlap = {}, {}, [], []
    for qid, vector in tqdm(list(zip(qids, query_vectors, strict=True)), desc="vector", unit="query"):
        t0 = time.perf_counter()
        hits = chunk_search_vector_by(
            tenant_id=loaded.tenant.pk, vector=vector, k=CHUNK_DEPTH, locale=None, space=space
        )
        times.append(time.perf_counter() - t0)
        hnsw[qid] = _to_documents([(h.chunk.pk, h.score) for h in hits], doc_of)
        scores = matrix @ vector.astype(np.float32)
        top = np.argsort(-scores)[:CHUNK_DEPTH]
        exact[qid] = _to_documents([(int(ids_arr[i]), float(scores[i])) for i in top], doc_of)
        exact_top10 = {int(ids_arr[i]) for i in top[:10]}
        overlap.append(len(exact_top10 & {h.chunk.pk for h in hits[:10]}) / max(1, len(exact_top10)))
    runs.rankings["vector"], runs.rankings["dense_exact"], runs.latencies["vector"] = hnsw, exact, times
    runs.extra["vector.recall@10_vs_exact"] = float(np.mean(overlap)) if overlap else 0.0


def _bm25s_run(data: BeirSet) -> dict[str, list[str]]:
    """The bm25s baseline (Lucene BM25, English stop words, Snowball stemmer) on whole documents."""
    import bm25s

    try:
        import Stemmer

        stemmer = Stemmer.Stemmer("english").stemWords
    except ImportError:  # still a BM25 baseline, only weaker
        stemmer = None
    doc_ids = list(data.corpus)
    texts = [f"{t} {x}".strip() for t, x in data.corpus.values()]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    qids = list(data.queries)
    tokens = bm25s.tokenize([data.queries[q] for q in qids], stopwords="en", stemmer=stemmer, show_progress=False)
    depth = min(RUN_DEPTH, len(doc_ids))
    found, _ = retriever.retrieve(tokens, k=depth, show_progress=False)
    return {q: [doc_ids[int(i)] for i in row] for q, row in zip(qids, found, strict=True)}


def percentile_ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return round(float(np.percentile(np.asarray(values) * 1000, q)), 1)


def report(data: BeirSet, loaded: Loaded, runs: Runs) -> dict:
    """Flatten every system's metrics, the latencies and the load figures into one JSON object."""
    figures: dict = {"dataset": data.name, "documents": len(data.corpus), "queries": len(data.queries)}
    for system, ranking in runs.rankings.items():
        for metric, value in metrics.evaluate(ranking, data.qrels).items():
            figures[f"{system}.{metric}"] = round(value, 4)
    for system, times in runs.latencies.items():
        figures[f"{system}.p50_ms"] = percentile_ms(times, 50)
        figures[f"{system}.p95_ms"] = percentile_ms(times, 95)
    figures.update({k: round(v, 4) if isinstance(v, float) else v for k, v in runs.extra.items()})
    figures.update({"load.seconds": round(loaded.seconds, 1), "load.embedded": loaded.embedded})
    figures["load.reused"] = loaded.reused
    return figures


def fused_for(queries: dict[str, str], loaded: Loaded) -> dict[str, list[str]]:
    """The fused ranking (keyword, vector and fuzzy legs, the tenant's weights) for queries outside the set."""
    tenant, space = loaded.tenant, active_space()
    chunk_docs = Chunk.objects.filter(tenant=tenant, retired_at__isnull=True, is_leaf=True)
    doc_of = {cid: loaded.slugs[key] for cid, key in chunk_docs.values_list("pk", "source_key")}
    path = embedding.model_path_for(space)
    legs: list[dict[str, list[str]]] = [{}, {}, {}]
    for qid, query in tqdm(list(queries.items()), desc="fused (tuning)", unit="query"):
        legs[0][qid] = _to_documents(chunk_search_keyword_ids(tenant_id=tenant.pk, query=query, k=CHUNK_DEPTH), doc_of)
        hits = chunk_search_vector_by(
            tenant_id=tenant.pk, vector=encode_query(path, query), k=CHUNK_DEPTH, locale=None, space=space
        )
        legs[1][qid] = _to_documents([(h.chunk.pk, h.score) for h in hits], doc_of)
        legs[2][qid] = _to_documents(chunk_search_fuzzy_ids(tenant_id=tenant.pk, query=query, k=CHUNK_DEPTH), doc_of)
    ranking = ranking_for(tenant_id=tenant.pk)
    weights = [ranking.keyword_weight, ranking.vector_weight, ranking.fuzzy_weight]
    return _fuse(legs, list(queries), k=ranking.rrf_k, weights=weights)


def relevance_run(data: BeirSet, path: Path, loaded: Loaded, runs: Runs, scorer, model_split: dict) -> None:
    """Add `fused+relevance`: the blend weight tuned on train queries the model never saw, reported on test."""
    tune_queries, tune_qrels = relevance_blend.train_queries(path, model_split)
    passages = relevance_blend.passage_texts(data.corpus)
    weight, tuned = 0.5, {}
    if tune_queries:
        tune_fused = fused_for(tune_queries, loaded)
        tune_scores = relevance_blend.relevance_scores(scorer, tune_queries, tune_fused, passages, "relevance (tuning)")
        weight, tuned = relevance_blend.tune_weight(tune_fused, tune_scores, tune_qrels)
    fused = runs.rankings["fused"]
    scores = relevance_blend.relevance_scores(scorer, data.queries, fused, passages, "relevance")
    name = relevance_blend.SYSTEM
    runs.rankings[name] = relevance_blend.blend(fused, scores, weight)
    runs.extra.update({f"{name}.model": scorer.version, f"{name}.weight": weight})
    runs.extra.update({f"{name}.tuning_queries": len(tune_queries), f"{name}.depth": relevance_blend.RELEVANCE_DEPTH})
    runs.extra.update({f"{name}.tuning.ndcg@10_at_{w}": v for w, v in tuned.items()})
