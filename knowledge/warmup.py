"""Load the serving space's models before the first edit or query arrives, not during it."""

from django.conf import settings

from knowledge.embedding import cross_encoder, default_model_path, encode, model_path_for
from knowledge.query_encoder import encode_query
from knowledge.relevance import active_scorer
from knowledge.services.spaces import active_space


def warm_up(*, serving: bool = False) -> None:
    """Load the serving space's model (and the chunking tokenizer) now, not on the first edit or query.

    `serving` (web processes) loads the query encoder (exporting it on first use), the configured
    re-ranker and the active relevance model too.
    """
    encode(default_model_path(), ["warm up"])
    if serving and settings.RERANKER_MODEL:
        cross_encoder(settings.RERANKER_MODEL)
    space = active_space()  # the last step: the only one that needs the database
    if space is not None:
        encode(model_path_for(space), ["warm up"])
        if serving:
            encode_query(model_path_for(space), "warm up")
    scorer = active_scorer() if serving else None
    if scorer is not None:
        scorer.warm_up()
