"""Thin Celery wrappers for the assistant: pruning conversations left empty by the retention purge."""

import logging

from celery import shared_task

from assistant.services.conversations import conversations_prune

logger = logging.getLogger(__name__)


@shared_task(name="assistant.tasks.conversations_prune", acks_late=True, ignore_result=True)
def conversations_prune_task() -> int:
    """Delete conversations whose every turn went with its purged answer record; log how many."""
    deleted = conversations_prune()
    logger.info("conversations pruned: %d", deleted)
    return deleted
