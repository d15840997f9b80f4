"""Untrained baselines within the question's product: the passage each would put first.

`bm25`: the keyword leg (BM25 over the tenant's statistics) kept to the product's passages; `dense`: the
embedding model's cosine over every passage of the product, computed exactly; `fused`: the hybrid search the
assistant's retriever runs (product scope with the policies), in its fused order, without any re-ranker.
"""

from collections import defaultdict

import numpy as np

from assistant.evaluation.loading import Loaded
from assistant.pipeline.retrieval import POOL_FACTOR, HybridRetriever
from knowledge import embedding
from knowledge.query_encoder import encode_query
from knowledge.retrieval.evaluation import leaf_vectors
from knowledge.retrieval.keyword import chunk_search_keyword_ids
from knowledge.retrieval.request import MAX_PAGE_SIZE, QUERY_MAX, SearchRequest
from knowledge.retrieval.search import QUERY_EMBED_CHARS, search
from knowledge.retrieval.visibility import visibility_for
from knowledge.services.spaces import active_space

BASELINES = ("bm25", "dense", "fused")


class Baselines:
    """Each baseline's first passage (a leaf chunk id, or None when it finds nothing) for one question."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded
        self.space = active_space()
        self.path = embedding.model_path_for(self.space)
        ids, matrix = leaf_vectors(loaded.tenant, self.space)
        rows = defaultdict(list)
        for row, chunk_id in enumerate(ids):
            rows[loaded.product_of_chunk.get(chunk_id)].append(row)
        self.by_product = {
            product: (np.asarray(ids)[picked], matrix[picked]) for product, picked in rows.items() if product
        }

    def first(self, question: str, product_pk: int) -> dict[str, int | None]:
        query = question[:QUERY_MAX]
        return {
            "bm25": self._bm25(query, product_pk),
            "dense": self._dense(query, product_pk),
            "fused": self._fused(query, product_pk),
        }

    def _bm25(self, query: str, product_pk: int) -> int | None:
        visibility = visibility_for(self.loaded.caller, product_scope=(product_pk,))
        hits = chunk_search_keyword_ids(tenant_id=self.loaded.tenant.pk, query=query, k=1, visibility=visibility)
        return hits[0][0] if hits else None

    def _dense(self, query: str, product_pk: int) -> int | None:
        if product_pk not in self.by_product:
            return None
        ids, matrix = self.by_product[product_pk]
        vector = encode_query(self.path, query[:QUERY_EMBED_CHARS]).astype(np.float32)
        return int(ids[int(np.argmax(matrix @ vector))])

    def _fused(self, query: str, product_pk: int) -> int | None:
        request = SearchRequest(
            caller=self.loaded.caller,
            query=query,
            size=min(HybridRetriever().k * POOL_FACTOR, MAX_PAGE_SIZE),
            product_scope=(product_pk,),
            with_policies=True,
        )
        hits = search(request, rerank=False).hits
        return hits[0].chunk.pk if hits else None
