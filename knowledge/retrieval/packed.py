"""The keyword leg over a keyword pack: every posting of the query's lexemes scored in memory, exactly.

MaxScore in SQL (knowledge.retrieval.keyword) reads fewer postings, but each one through the executor, so
a query of common words ("energy-efficient bluetooth speaker for travel") stays slow there in a large
catalog. A pack (knowledge.services.keyword_packs) holds each lexeme's postings as one packed row; here they
are read once per process (then kept, least recently used first out, within settings.KEYWORD_PACK_CACHE_MB),
weighted with NumPy, summed per chunk with one `bincount`, and the chunks are checked for visibility in
rank order, a batch at a time, in SQL. Chunks created since the pack was built are scored from the
postings table instead of the pack; retired ones fail the visibility check. The result is the same BM25
top k as the SQL path, scores equal to the last bits (and ordered at 1e-9, as there).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection

from knowledge.retrieval.visibility import Visibility, with_category_chunks
from knowledge.services.postings import tf_part

# The pack's generation and, in the same snapshot, the packed rows of the lexemes this process lacks.
_LOAD = """
    SELECT k.generation, k.delta_from, pp.term, pp.chunk_ids, pp.tfs, pp.dls
    FROM knowledge_keywordpack k
    LEFT JOIN knowledge_packedpostings pp ON pp.tenant_id = k.tenant_id AND pp.locale = k.locale
        AND pp.generation = k.generation AND pp.term = ANY(%(terms)s::text[])
    WHERE k.tenant_id = %(tenant)s AND k.locale = %(locale)s
"""
# Chunks the pack may lack, with their postings of the query's lexemes (none: a row with a NULL term).
_DELTA = """
    SELECT c.id, p.term, p.tf, p.dl FROM knowledge_chunk c
    LEFT JOIN knowledge_posting p ON p.chunk_id = c.id AND p.term = ANY(%(terms)s::text[])
    WHERE c.tenant_id = %(tenant)s AND c.locale = %(locale)s AND c.created_at >= %(since)s
"""
# The visible chunks of one batch, in the batch's (rank) order, LIMIT stopping early. The LIMIT inside the
# LATERAL sub-query keeps it from being flattened into a join the planner may turn around (on a small
# table it did: the chunks outer, the batch inner, and the first k found were not the best k).
_WALK = """
    SELECT s.ord FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS s(id, ord)
    CROSS JOIN LATERAL (SELECT 1 FROM knowledge_chunk c WHERE c.id = s.id AND {where} LIMIT 1) AS visible
    LIMIT %(k)s
"""
_LIVE = "c.tenant_id = %(v_tenant)s AND c.retired_at IS NULL AND c.is_leaf"  # no caller: any live leaf
FIRST_BATCH = 2  # times k: most callers see most chunks; each further batch is 4 times the last
MAX_BATCH = 10_000


@dataclass(frozen=True)
class PackedTerm:
    ids: np.ndarray  # chunk ids, ascending
    tf: np.ndarray
    dl: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.tf.nbytes + self.dl.nbytes


EMPTY = PackedTerm(np.empty(0, np.int32), np.empty(0, np.uint16), np.empty(0, np.uint16))


def _unpack(chunk_ids: bytes, tfs: bytes, dls: bytes) -> PackedTerm:
    ids = np.frombuffer(chunk_ids, dtype=">i8")
    tf, dl = np.frombuffer(tfs, dtype=">i4"), np.frombuffer(dls, dtype=">i4")
    return PackedTerm(_narrow(ids, np.int32), _narrow(tf, np.uint16), _narrow(dl, np.uint16))


def _narrow(values: np.ndarray, dtype) -> np.ndarray:
    fits = not len(values) or int(values.max()) <= np.iinfo(dtype).max
    return values.astype(dtype if fits else np.int64)


class TermCache:
    """Unpacked lexemes by (tenant, locale, generation, term), least recently used out past the budget."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self._generations: dict = {}
        self._lock = threading.Lock()

    def generation(self, tenant_id: int, locale: str) -> int | None:
        return self._generations.get((tenant_id, locale))

    def get(self, key) -> PackedTerm | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value: PackedTerm) -> None:
        with self._lock:
            self._generations[key[:2]] = key[2]
            if key in self._items:
                return
            self._items[key] = value
            self._bytes += value.nbytes
            while self._bytes > self.budget and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes


CACHE = TermCache(settings.KEYWORD_PACK_CACHE_MB * 2**20)


@dataclass(frozen=True)
class Pack:
    delta_from: object  # chunks created from then on are scored from the postings table (KeywordPack)
    terms: dict  # term -> PackedTerm


def pack_terms(tenant_id: int, locale: str, terms: list[str]) -> Pack | None:
    """The pack's arrays of `terms` (from the cache, else read), or None when the locale has no pack."""
    known = CACHE.generation(tenant_id, locale)
    for _ in range(2):
        cached = {t: CACHE.get((tenant_id, locale, known, t)) for t in terms} if known is not None else {}
        missing = [t for t in terms if cached.get(t) is None]
        with connection.cursor() as cursor:
            cursor.execute(_LOAD, {"tenant": tenant_id, "locale": locale, "terms": missing})
            rows = cursor.fetchall()
        if not rows:
            return None
        generation, delta_from = rows[0][0], rows[0][1]
        if generation == known or len(missing) == len(terms):
            loaded = {row[2]: _unpack(*row[3:]) for row in rows if row[2] is not None}
            for term in missing:
                CACHE.put((tenant_id, locale, generation, term), loaded.get(term, EMPTY))
            found = {t: cached.get(t) or loaded.get(t, EMPTY) for t in terms}
            return Pack(delta_from, found)
        known = generation  # rebuilt since this process last looked: read every term of the new generation
    return None


def packed_top(lq, params: dict, visibility: Visibility | None) -> list[tuple[int, float]] | None:
    """The locale's BM25 top k from its pack (None without a pack, or when more than
    settings.KEYWORD_PACK_WALK_MAX chunks would have to be checked for visibility: a filter that selective
    is left to the SQL path)."""
    tenant_id, locale = params["tenant"], lq.locale
    pack = pack_terms(tenant_id, locale, [t.term for t in lq.terms])
    if pack is None:
        return None
    allowed = _listed(visibility)
    scores = _scores(lq, params, pack, _delta(tenant_id, locale, pack, lq), allowed)
    return _walk(scores, params["k"], visibility, tenant_id, settings.KEYWORD_PACK_WALK_MAX)


@dataclass(frozen=True)
class Delta:
    chunk_ids: np.ndarray  # every chunk the pack may lack: its pack weights, if any, are replaced
    postings: dict  # term -> PackedTerm


def _delta(tenant_id: int, locale: str, pack: Pack, lq) -> Delta:
    params = {"tenant": tenant_id, "locale": locale, "since": pack.delta_from, "terms": [t.term for t in lq.terms]}
    with connection.cursor() as cursor:
        cursor.execute(_DELTA, params)
        rows = cursor.fetchall()
    chunk_ids = np.unique(np.array([row[0] for row in rows], dtype=np.int64))
    by_term: dict = {}
    for chunk_id, term, tf, dl in rows:
        if term is not None:
            by_term.setdefault(term, []).append((chunk_id, tf, dl))
    postings = {
        term: PackedTerm(*(np.array(col, dtype=np.int64) for col in zip(*sorted(found), strict=True)))
        for term, found in by_term.items()
    }
    return Delta(chunk_ids, postings)


def _listed(visibility: Visibility | None) -> np.ndarray | None:
    """The small category's chunk ids (sorted), when the filter names one."""
    if visibility is None or not visibility.small_category:
        return None
    listed = with_category_chunks(visibility).params["v_chunks"]
    # fromstring's text mode parses in C, several times faster than str.split
    return np.fromstring(listed, sep=",", dtype=np.int64) if listed else np.empty(0, np.int64)


def _weights(term, postings: PackedTerm, params: dict) -> np.ndarray:
    tf = postings.tf.astype(np.float64)
    return term.idf * tf_part(tf, postings.dl, params["avgdl"], params["k1"], params["b"])


def _scores(lq, params: dict, pack: Pack, delta: Delta, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(chunk ids ascending, their BM25 scores) of every chunk holding a query term (and `allowed`)."""
    from_pack = [(pack.terms[t.term], t) for t in lq.terms]
    from_delta = [(delta.postings[t.term], t) for t in lq.terms if t.term in delta.postings]
    if allowed is not None:
        return _scores_within(allowed, from_pack, from_delta, params, delta)
    arrays = [p.ids for p, _ in from_pack + from_delta] + [delta.chunk_ids]
    size = max((int(a[-1]) for a in arrays if len(a)), default=-1) + 1  # every id array is ascending
    total = _summed(from_pack, params, size)
    if len(delta.chunk_ids):
        total[delta.chunk_ids] = 0.0  # those chunks are scored from the postings table instead
        total += _summed(from_delta, params, size)
    ids = np.flatnonzero(total)
    return ids, total[ids]


def _summed(parts: list, params: dict, size: int) -> np.ndarray:
    """Each chunk's summed weight over `parts` ((postings, query term) pairs), indexed by chunk id."""
    if not parts:
        return np.zeros(size)
    ids = np.concatenate([postings.ids for postings, _ in parts])
    weights = np.concatenate([_weights(term, postings, params) for postings, term in parts])
    return np.bincount(ids, weights=weights, minlength=size)


def _scores_within(allowed: np.ndarray, from_pack: list, from_delta: list, params: dict, delta: Delta):
    """`_scores` over the sorted ids `allowed` (a small category's chunks) only: each term's postings are
    looked up by those ids, so a common term's long posting list is neither weighted nor summed whole (arrays
    the size of the category, not of the catalog)."""
    total = _summed_within(allowed, from_pack, params)
    if len(delta.chunk_ids):
        total[_positions(allowed, delta.chunk_ids)[0]] = 0.0  # scored from the postings table instead
        total += _summed_within(allowed, from_delta, params)
    kept = np.flatnonzero(total)
    return allowed[kept], total[kept]


def _summed_within(allowed: np.ndarray, parts: list, params: dict) -> np.ndarray:
    """Each allowed chunk's summed weight over `parts`, in `allowed`'s order (terms added in `parts`'
    order, as `np.bincount` adds them: the same sums to the last bit)."""
    total = np.zeros(len(allowed))
    for postings, term in parts:
        at, found = _positions(allowed, postings.ids)
        subset = PackedTerm(postings.ids[found], postings.tf[found], postings.dl[found])
        total[at] += _weights(term, subset, params)  # a chunk holds a lexeme once: no repeated positions
    return total


def _positions(allowed: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in `allowed`, positions in `ids`) of the ids in both; both arrays ascending, unique."""
    if not len(allowed) or not len(ids):
        return np.empty(0, np.intp), np.empty(0, np.intp)
    if len(ids) > len(allowed):  # look the shorter array up in the longer one
        found = np.minimum(np.searchsorted(ids, allowed), len(ids) - 1)
        hit = ids[found] == allowed
        return np.flatnonzero(hit), found[hit]
    at = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
    hit = allowed[at] == ids
    return at[hit], np.flatnonzero(hit)


def _ranked(ids: np.ndarray, scores: np.ndarray, size: int):
    """Yield (ids, scores) batches in rank order (score at 1e-9 descending, then id): `size` chunks first
    (more when tied at the last place), then four times as many each time."""
    keys = np.rint(scores * 1e9)
    rest = np.arange(len(ids))
    while len(rest):
        if len(rest) > size:
            cut = np.partition(keys[rest], len(rest) - size)[len(rest) - size]
            chosen, rest = rest[keys[rest] >= cut], rest[keys[rest] < cut]
        else:
            chosen, rest = rest, rest[:0]
        chosen = chosen[np.argsort(-keys[chosen], kind="stable")]  # ids ascend within equal keys
        yield ids[chosen], scores[chosen]
        size = min(size * 4, MAX_BATCH)


def _walk(scored, k: int, visibility: Visibility | None, tenant_id: int, walk_max: int):
    """The first k visible chunks in rank order, or None past `walk_max` chunks checked."""
    if visibility is None:
        where, params = _LIVE, {"v_tenant": tenant_id}
    else:
        where, params = visibility.chunk_sql, visibility.params
    sql, out, walked = _WALK.format(where=where), [], 0
    for ids, scores in _ranked(*scored, FIRST_BATCH * k):
        if walked >= walk_max:
            return None
        with connection.cursor() as cursor:
            cursor.execute(sql, {**params, "ids": ids.tolist(), "k": k - len(out)})
            found = sorted(row[0] - 1 for row in cursor.fetchall())
        out += [(int(ids[i]), float(scores[i])) for i in found]
        walked += len(ids)
        if len(out) >= k:
            break
    return out
