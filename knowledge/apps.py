from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"

    def ready(self):
        from core.indexable import sources_deleted
        from knowledge.services.indexing import sources_deleted_retire

        # Catalog deletes announce their sources in their own transaction; retiring the chunks there keeps
        # a deleted product or SKU unsearchable the moment the delete commits.
        sources_deleted.connect(sources_deleted_retire, dispatch_uid="knowledge.sources_deleted_retire")
