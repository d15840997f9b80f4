"""Hybrid search for the storefront: three filtered legs, weighted reciprocal-rank fusion, re-rankers.

What the caller may see (tenant, locale, entitlement, activity and the client's filters) is one SQL
condition built by `visibility_for` and placed inside each leg's query, so no leg ever returns a chunk
the caller may not read and a selective filter still fills its k results. The fused candidates then get
their facet fields and re-ranking features in one more query, and the re-rankers reorder them.
"""

import html
import re
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import close_old_connections, connection
from django.utils import timezone

from knowledge.models import Chunk
from knowledge.retrieval.fusion import reciprocal_rank_fusion
from knowledge.retrieval.fuzzy import chunk_search_fuzzy_ids
from knowledge.retrieval.keyword import chunk_search_keyword_ids
from knowledge.retrieval.request import SearchRequest
from knowledge.retrieval.rerank import Candidate, freshness, rerankers_for
from knowledge.retrieval.vector import chunk_search_vector_ids, query_vector
from knowledge.retrieval.visibility import (
    PRICED,
    SKU_SCOPE,
    STOCKED,
    Visibility,
    visibility_for,
    with_category_chunks,
)
from knowledge.selectors import ranking_for
from knowledge.services.spaces import active_space, space_label

VECTOR_K, KEYWORD_K, FUZZY_K = 100, 100, 50  # fused pool of at most 250 candidates: enough for 5 pages of 50
QUERY_EMBED_CHARS = 2_000  # MiniLM reads 256 word pieces; more text only costs tokenizer time
# (label, low inclusive, high exclusive) over the lowest resolved price within the requested price range.
PRICE_BANDS = (
    ("0-50", Decimal(0), Decimal(50)),
    ("50-100", Decimal(50), Decimal(100)),
    ("100-250", Decimal(100), Decimal(250)),
    ("250-500", Decimal(250), Decimal(500)),
    ("500+", Decimal(500), None),
)
_VECTOR_LEG = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vector-leg")  # one per request slot
SNIPPET_MAX = 300  # characters of a highlight before it is cut with an ellipsis
HIGHLIGHT_TERMS = 32  # distinct query words looked for in a snippet
WORD_RE = re.compile(r"\w+", re.UNICODE)
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class SearchHit:
    chunk: Chunk
    score: float
    legs: dict[str, float | None]
    snippet: str

    @property
    def product_handle(self) -> str | None:
        return self.chunk.product.handle if self.chunk.product_id else None


@dataclass(frozen=True)
class SearchResult:
    count: int
    page: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # embedding space, ranking and re-rankers used


def search(request: SearchRequest, *, rerank: bool = True) -> SearchResult:
    """Return one page of the caller's hits for the request's query, with facets over every visible candidate.

    Without `rerank`, the fused order is kept.
    """
    query, tenant_id = request.query, request.caller.tenant_id
    visibility = visibility_for(
        request.caller,
        request.filters,
        locale=request.locale,
        product_scope=request.product_scope,
        with_policies=request.with_policies,
    )
    ranking, space = ranking_for(tenant_id=tenant_id), active_space()
    vector, keyword, fuzzy, rows = _legs(tenant_id, query, space, visibility)
    fused = dict(
        reciprocal_rank_fusion(
            [list(keyword), list(vector), list(fuzzy)],
            k=ranking.rrf_k,
            weights=[ranking.keyword_weight, ranking.vector_weight, ranking.fuzzy_weight],
        )
    )
    rows |= _rows_for(visibility, [cid for cid in fused if cid not in rows])
    rows = {cid: row for cid, row in rows.items() if row is not None}  # the visible ones
    candidates = [Candidate(cid, fused[cid], _features(rows[cid])) for cid in fused if cid in rows]
    steps = rerankers_for(ranking, _chunk_texts) if rerank else []
    for step in steps:
        candidates = step.run(query, candidates)
    versions = {
        "space": space_label(space),
        "ranking": f"v{ranking.version}",
        "reranker": "+".join(f"{step.name}@{step.version}" for step in steps),
    }
    page, size = request.page, request.size
    window = candidates[(page - 1) * size : page * size]
    chunks = Chunk.objects.select_related("product").in_bulk([c.id for c in window])
    words = _query_words(query)
    hits = [
        SearchHit(
            chunk=chunks[c.id],
            score=c.score,
            legs={
                "vector": vector.get(c.id),
                "keyword": keyword.get(c.id),
                "fuzzy": fuzzy.get(c.id),
                "fused": fused[c.id],
            },
            snippet=highlight(chunks[c.id].text, words),
        )
        for c in window
    ]
    return SearchResult(len(candidates), page, hits, _facets(rows.values()), versions)


class _InFlight:
    """How many searches this process is running now (the web server's threads share it)."""

    def __init__(self):
        self._lock, self._count = threading.Lock(), 0

    @contextmanager
    def search(self):
        """Count this search while it runs; yield whether it is the only one."""
        with self._lock:
            self._count += 1
            alone = self._count == 1
        try:
            yield alone
        finally:
            with self._lock:
                self._count -= 1


IN_FLIGHT = _InFlight()


def _legs(tenant_id: int, query: str, space, visibility: Visibility) -> tuple[dict, dict, dict, dict]:
    """Run the vector, keyword and fuzzy legs; return each one's {chunk id: score}, and the candidate rows
    read so far ({chunk id: row, or None when not visible}).

    When it is the process's only search, the vector leg (query encoding, then its SQL) runs on a thread
    with a database connection of its own while the keyword leg runs on the request's: two PostgreSQL
    backends on two cores. Under a small category filter the request's thread first lists the category's
    chunks, once for both legs, while the other encodes the query. The fuzzy leg then runs on whichever is
    free first, and each thread reads the candidate rows of the legs it ran. With other searches running
    the cores are busy anyway, and inside a transaction (a caller's atomic block) another connection would
    not see its uncommitted rows: then only the encoding runs beside the other legs, and `search` reads
    every candidate row at once.
    """
    text = query[:QUERY_EMBED_CHARS]
    fuzzy_leg = _Leftover(
        lambda: dict(chunk_search_fuzzy_ids(tenant_id=tenant_id, query=query, k=FUZZY_K, visibility=visibility))
    )
    with IN_FLIGHT.search() as alone:
        beside = alone and not connection.in_atomic_block
        shared = Future()  # the category's chunk ids, listed here while the other thread encodes the query
        if beside:
            side = _VECTOR_LEG.submit(_on_own_connection, _vector_side, tenant_id, text, space, shared, fuzzy_leg)
        else:
            side = _VECTOR_LEG.submit(query_vector, text, space)
        listed = _settle(shared, lambda: with_category_chunks(visibility))
        keyword = dict(chunk_search_keyword_ids(tenant_id=tenant_id, query=query, k=KEYWORD_K, visibility=listed))
        if not beside:
            fuzzy = fuzzy_leg.result()
            return _vector_ids(tenant_id, text, space, listed, side.result()), keyword, fuzzy, {}
        rows = _rows_for(visibility, [*keyword, *(fuzzy_leg.result() if fuzzy_leg.take() else ())])
        fuzzy = fuzzy_leg.result()
        vector, vector_rows = side.result()
        return vector, keyword, fuzzy, rows | vector_rows


def _settle(future: Future, compute):
    """Return compute()'s value after handing it to `future` (or its error, then re-raised here)."""
    try:
        value = compute()
    except BaseException as error:
        future.set_exception(error)
        raise
    future.set_result(value)
    return value


def _vector_side(tenant_id: int, text: str, space, shared: Future, fuzzy_leg) -> tuple[dict, dict]:
    """The vector leg (the query encoded while the other thread lists the category's chunks, `shared`),
    then the fuzzy leg unless the request's thread took it, then their candidate rows."""
    encoded = query_vector(text, space)
    visibility = shared.result()
    vector = _vector_ids(tenant_id, text, space, visibility, encoded)
    fuzzy = fuzzy_leg.result() if fuzzy_leg.take() else {}
    return vector, _rows_for(visibility, [*vector, *fuzzy])


class _Leftover:
    """A leg either of a search's threads may run once its own is done: the first to be free takes it."""

    def __init__(self, run):
        self._run, self._lock, self._taken, self._done = run, threading.Lock(), False, threading.Event()
        self._value, self._error = None, None

    def take(self) -> bool:
        """Run it here, unless another thread already has; return whether it ran here."""
        with self._lock:
            if self._taken:
                return False
            self._taken = True
        try:
            self._value = self._run()
        except Exception as error:  # noqa: BLE001 - re-raised in the thread that waits for the result
            self._error = error
        finally:
            self._done.set()
        return True

    def result(self):
        self.take()
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


def _vector_ids(tenant_id: int, text: str, space, visibility: Visibility, vector=None) -> dict:
    return dict(
        chunk_search_vector_ids(
            tenant_id=tenant_id, query=text, k=VECTOR_K, space=space, visibility=visibility, vector=vector
        )
    )


def _on_own_connection(leg, *args):
    """Run `leg` on this (pool) thread's connection, which follows Django's request life cycle: kept for
    CONN_MAX_AGE (a new backend per request would plan every statement with cold caches), closed once too
    old or broken."""
    close_old_connections()
    try:
        return leg(*args)
    finally:
        close_old_connections()


_CANDIDATES_SQL = f"""
    SELECT c.id, c.product_id, p.brand, p.updated_at,
           (SELECT cat.slug FROM catalog_category cat WHERE cat.id = p.category_id) AS category_slug,
           {STOCKED.format(scope=SKU_SCOPE)} AS in_stock,
           (SELECT min(pr.amount) {PRICED.format(scope=SKU_SCOPE)}) AS price,
           sk.margin, sk.conversion
    FROM knowledge_chunk c
    LEFT JOIN catalog_product p ON p.id = c.product_id
    LEFT JOIN LATERAL (
        SELECT max(s.margin_rate) AS margin, max(s.conversion_rate) AS conversion
        FROM catalog_sku s WHERE {SKU_SCOPE}
    ) sk ON c.product_id IS NOT NULL
    WHERE c.id = ANY(%(f_ids)s) AND {{where}}
"""


def _rows_for(visibility: Visibility, ids: list) -> dict:
    """{chunk id: its candidate row, or None when the caller may not see it} for `ids`."""
    if not ids:
        return {}
    found = {row["id"]: row for row in candidate_rows(visibility, dict.fromkeys(ids))}
    return {cid: found.get(cid) for cid in ids}


def candidate_rows(visibility: Visibility, ids) -> list[dict]:
    """Return the fused candidates' facet fields and features: ONE query, visibility checked again."""
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL.format(where=visibility.chunk_sql), visibility.where({"f_ids": list(ids)}))
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _features(row: dict) -> dict[str, float]:
    if row["product_id"] is None:
        return {}  # policies and documents: neutral on every commercial feature
    features = {"stock": 1.0 if row["in_stock"] else 0.0}
    if row["margin"] is not None:
        features["margin"] = min(1.0, max(0.0, float(row["margin"])))
    if row["conversion"] is not None:
        features["conversion"] = min(1.0, max(0.0, float(row["conversion"])))
    if row["updated_at"] is not None:
        features["freshness"] = freshness((timezone.now() - row["updated_at"]).total_seconds() / 86_400)
    return features


def _chunk_texts(ids: list) -> dict:
    rows = Chunk.objects.filter(pk__in=ids).values_list("pk", "title", "text")
    return {pk: f"{title}\n{text}" for pk, title, text in rows}


def _facets(rows) -> dict[str, dict[str, int]]:
    """Count the products of the visible candidates by category, brand, stock and price band: a product with
    several matching passages (its attribute groups, paragraphs, SKUs, reviews) counts once per value."""
    products: dict[str, set] = {"category": set(), "brand": set(), "in_stock": set(), "price": set()}
    for row in rows:
        product = row["product_id"]
        if product is None:
            continue
        products["category"].add((row["category_slug"], product))
        products["in_stock"].add(("true" if row["in_stock"] else "false", product))
        if row["brand"]:
            products["brand"].add((row["brand"], product))
        if row["price"] is not None:
            products["price"].add((price_band(row["price"]), product))
    counts = {name: Counter(value for value, _ in pairs) for name, pairs in products.items()}
    return {
        "category": dict(sorted(counts["category"].items())),
        "brand": dict(sorted(counts["brand"].items())),
        "in_stock": {"true": counts["in_stock"]["true"], "false": counts["in_stock"]["false"]},
        "price": {label: counts["price"][label] for label, _, _ in PRICE_BANDS},
    }


def price_band(amount: Decimal) -> str:
    for label, low, high in PRICE_BANDS:
        if amount >= low and (high is None or amount < high):
            return label
    return PRICE_BANDS[0][0]  # negative prices cannot exist (MinValueValidator); keep the facet total anyway


def _query_words(query: str) -> list[str]:
    words = []
    for word in WORD_RE.findall(query.lower()):
        if len(word) > 1 and word not in words:  # one letter would mark half the snippet
            words.append(word)
        if len(words) == HIGHLIGHT_TERMS:
            break
    return words


def highlight(text: str, words: list[str]) -> str:
    """Return the first sentence(s) holding a query word, HTML-escaped, the words wrapped in <mark>."""
    sentences = [s for s in SENTENCE_END_RE.split(text) if s.strip()]
    if not sentences:
        return ""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"\b(?:{alternatives})", re.IGNORECASE)  # word starts: "headphone" marks "headphones"
    start = next((i for i, s in enumerate(sentences) if words and pattern.search(s)), 0)
    snippet = ""
    for sentence in sentences[start:]:
        snippet = f"{snippet} {sentence.strip()}".strip()
        if len(snippet) >= SNIPPET_MAX // 2:
            break
    if len(snippet) > SNIPPET_MAX:
        snippet = snippet[:SNIPPET_MAX].rsplit(" ", 1)[0] + "…"
    if not words:
        return html.escape(snippet)
    out, last = [], 0
    for match in pattern.finditer(snippet):
        out.append(html.escape(snippet[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group())}</mark>")
        last = match.end()
    out.append(html.escape(snippet[last:]))
    return "".join(out)
