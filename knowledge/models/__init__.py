from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from pgvector.django import VectorField

from catalog.models import TEXT_MAX, TITLE_MAX, Category, Product, Tenant
from core.indexable import IndexedSource, SourceKind, content_hash_field, pending_index
from core.tenancy import LOCALE_CHOICES

DOCUMENT_MAX = 2_000_000  # characters of extracted text; a 500-page manual fits
QUESTION_MAX = 2_000  # a customer's question; the answer is the document's body


class EmbeddingSpace(models.Model):
    class State(models.TextChoices):
        BUILDING = "building", "Building (not yet serving)"
        ACTIVE = "active", "Active (serving)"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=100)
    model_path = models.CharField(
        max_length=500, blank=True, help_text="Local sentence-transformers model folder; empty: the bundled MiniLM."
    )
    version = models.PositiveIntegerField(default=1)
    dimensions = models.PositiveIntegerField(default=384)
    state = models.CharField(max_length=10, choices=State.choices, default=State.BUILDING)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="one_active_space"),
            models.UniqueConstraint(fields=["state"], condition=Q(state="building"), name="one_building_space"),
            models.UniqueConstraint(fields=["name", "version"], name="space_name_version_unique"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE


class PolicyKind(models.TextChoices):
    RETURNS = "returns", "Returns"
    WARRANTY = "warranty", "Warranty"
    SHIPPING = "shipping", "Shipping"
    PRIVACY = "privacy", "Privacy"


class Policy(IndexedSource):
    """A policy's working copy; publishing freezes it into an immutable PolicyVersion."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="policies")
    slug = models.SlugField(max_length=100, help_text="Stable key used in citations, e.g. returns-eu.")
    kind = models.CharField(max_length=20, choices=PolicyKind.choices)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES, default="en")
    region = models.CharField(max_length=20, help_text="Region code, e.g. EU, US, UK, DE.")
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(max_length=TEXT_MAX)
    current_version = models.ForeignKey(
        "PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    content_hash = content_hash_field("current_version_id", "locale", "region", "kind")

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["tenant", "kind", "region", "locale"]
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="policy_slug_unique_per_tenant")]
        indexes = [pending_index("policy_index_pending")]

    def __str__(self):
        return f"{self.title} [{self.region}/{self.locale}]"


class PolicyVersion(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique")]

    def __str__(self):
        return f"{self.policy.slug}@{self.number}"


class DocumentKind(models.TextChoices):
    MANUAL = "manual", "Manual"
    WARRANTY = "warranty", "Warranty terms"
    GUIDE = "guide", "Guide"
    REVIEW = "review", "Customer review"
    QA = "qa", "Customer Q&A"
    # What the product's maker states (attributes, feature bullets, descriptions) kept as separate passages:
    # attached to its product, it speaks for the product as its own text does.
    SPEC = "spec", "Product information"


class DocumentFormat(models.TextChoices):
    MARKDOWN = "markdown", "Markdown"
    TEXT = "text", "Plain text"
    PDF = "pdf", "PDF"


class Document(IndexedSource):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="documents")
    slug = models.SlugField(max_length=120, help_text="Stable key used in citations.")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    format = models.CharField(max_length=10, choices=DocumentFormat.choices, default=DocumentFormat.MARKDOWN)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES, default="en")
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField(
        blank=True, max_length=DOCUMENT_MAX, help_text="For PDFs: the text extracted on upload. For Q&A: the answer."
    )
    question = models.TextField(
        blank=True, max_length=QUESTION_MAX, validators=[MaxLengthValidator(QUESTION_MAX)],
        help_text="Q&A only: the customer's question (shown with the answer, not indexed).",
    )  # fmt: skip
    source_file = models.FileField(upload_to="documents/", blank=True)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents")
    rating = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Reviews only: 1 to 5 stars.")
    author = models.CharField(max_length=120, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    content_hash = content_hash_field("title", "body", "kind", "locale", "product_id")

    class Meta:
        ordering = ["tenant", "kind", "title"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="document_slug_unique_per_tenant"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="rating_one_to_five"
            ),
        ]
        indexes = [pending_index("document_index_pending")]

    def __str__(self):
        return self.title

    def clean(self):
        if self.question and self.kind != DocumentKind.QA:
            raise ValidationError({"question": "Only a Q&A document has a question."})


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_version_unique")]

    def __str__(self):
        return f"{self.document.slug}@{self.number}"


class Chunk(models.Model):
    """A passage of one source version. Kept after retirement so that citations keep resolving."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="chunks")
    source_kind = models.CharField(max_length=10, choices=SourceKind.choices)
    source_id = models.BigIntegerField()
    source_key = models.CharField(max_length=150)
    source_version = models.PositiveIntegerField()
    anchor = models.CharField(max_length=40)
    ordinal = models.PositiveIntegerField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    is_leaf = models.BooleanField(default=True, help_text="Leaves are embedded; parents give context.")
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    title = models.CharField(max_length=TITLE_MAX, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of title and text: what gets embedded.")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["source_kind", "source_id", "ordinal"]
        indexes = [
            models.Index(fields=["source_kind", "source_id"], condition=Q(retired_at__isnull=True), name="chunk_live"),
            models.Index(fields=["content_hash"], name="chunk_content_hash"),
            models.Index(fields=["tenant", "locale"], condition=Q(retired_at__isnull=True), name="chunk_tenant_live"),
            models.Index(fields=["tenant", "locale", "created_at"], name="chunk_created"),
            # a category filter's live leaf chunks read from the index alone (knowledge.retrieval.visibility)
            models.Index(
                fields=["product"],
                include=["tenant", "id"],
                condition=Q(retired_at__isnull=True, is_leaf=True),
                name="chunk_leaf_by_product",
            ),
        ]

    def __str__(self):
        return self.citation_id

    @property
    def citation_id(self) -> str:
        return f"{self.source_kind}:{self.source_key}@{self.source_version}#{self.anchor}"


class ChunkEmbedding(models.Model):
    """One chunk's vector in one embedding space; each space has its own partial HNSW index."""

    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="embeddings")
    space = models.ForeignKey(EmbeddingSpace, on_delete=models.CASCADE, related_name="embeddings")
    embedding = VectorField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chunk", "space"], name="one_embedding_per_space")]
        indexes = [models.Index(fields=["space"], name="embedding_space")]

    def __str__(self):
        return f"{self.chunk_id} in space {self.space_id}"


class Posting(models.Model):
    """One lexeme of one live leaf chunk: the keyword leg's inverted index (BM25 reads tf and dl here).

    Filled from `to_tsvector(<locale's config>, title || ' ' || text)` by knowledge.services.postings when
    chunks are inserted, deleted when they are retired; the unique index (tenant, locale, term, chunk)
    carries tf and dl so a query term is one index-only range scan.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    term = models.TextField()
    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="postings")
    tf = models.PositiveIntegerField(help_text="Occurrences of the lexeme in the chunk.")
    dl = models.PositiveIntegerField(help_text="The chunk's length in lexeme occurrences (BM25's document length).")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "locale", "term", "chunk"], include=["tf", "dl"], name="posting_term_chunk"
            )
        ]

    def __str__(self):
        return f"{self.term} in {self.chunk_id} ×{self.tf}"


class KeywordStats(models.Model):
    """Per tenant and locale: live leaf chunks with postings and their summed length (BM25's N and avgdl)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    chunks = models.BigIntegerField(default=0)
    lexemes = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "keyword stats"
        constraints = [models.UniqueConstraint(fields=["tenant", "locale"], name="keyword_stats_unique")]

    def __str__(self):
        return f"{self.tenant_id}/{self.locale}: {self.chunks} chunks"


class TermStats(models.Model):
    """Per tenant, locale and lexeme: BM25's document frequency and bounds on the lexeme's term weight.

    Kept by knowledge.services.postings in the statement that writes or deletes the postings. `df` counts
    the live leaf chunks holding the lexeme. The bounds only ever widen (a removal leaves them), so BM25's
    term weight computed from them bounds that of every posting, and the keyword leg's MaxScore pruning
    skips only chunks that cannot reach the top k. `max_weight` is the tight bound, valid at another
    average length A once scaled by max(1, A / weight_avgdl); `max_tf` and `min_dl` serve any k1 and b.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    term = models.TextField()
    df = models.BigIntegerField(default=0)
    max_tf = models.PositiveIntegerField(default=0)
    min_dl = models.PositiveIntegerField(default=0)
    max_weight = models.FloatField(
        default=0.0, help_text="The largest BM25 tf part (default k1 and b) of a posting, at `weight_avgdl`."
    )
    weight_avgdl = models.FloatField(default=0.0, help_text="The smallest average length `max_weight` used.")

    class Meta:
        verbose_name_plural = "term stats"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "locale", "term"],
                include=["df", "max_tf", "min_dl", "max_weight", "weight_avgdl"],
                name="term_stats_unique",
            )
        ]

    def __str__(self):
        return f"{self.term}: {self.df}"


class KeywordPack(models.Model):
    """A snapshot of one tenant and locale's postings, packed per lexeme for the keyword leg to score in memory.

    Built by knowledge.services.keyword_packs from the postings committed when the build began
    (`built_from`). Chunks created from `delta_from` on (the start of the oldest writing transaction open at
    the build, which may still commit chunks the snapshot lacks, less settings.KEYWORD_PACK_MARGIN_S) are read
    from the postings table at query time, and retired ones are skipped by the visibility check, so a
    search over a pack stays exact and fresh.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    generation = models.PositiveIntegerField(default=0, help_text="Raised by every build: caches key on it.")
    built_from = models.DateTimeField(help_text="When the build's snapshot of the postings was taken.")
    delta_from = models.DateTimeField(
        verbose_name="read live since",
        help_text="Chunks created from this instant on are read from the postings table, not from the pack.",
    )
    built_at = models.DateTimeField(help_text="When the build committed.")
    build_seconds = models.FloatField(default=0.0)
    chunks = models.BigIntegerField(default=0, help_text="Live leaf chunks in the snapshot.")
    postings = models.BigIntegerField(default=0)
    terms = models.BigIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "locale"], name="keyword_pack_unique")]

    def __str__(self):
        return f"{self.tenant_id}/{self.locale} generation {self.generation}: {self.chunks} chunks"


class PackedPostings(models.Model):
    """One lexeme's postings in a `KeywordPack`: chunk ids (int8), tf and dl (int4), big-endian, by chunk id."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    term = models.TextField()
    generation = models.PositiveIntegerField()
    chunk_ids = models.BinaryField()
    tfs = models.BinaryField()
    dls = models.BinaryField()

    class Meta:
        verbose_name_plural = "packed postings"
        constraints = [models.UniqueConstraint(fields=["tenant", "locale", "term"], name="packed_postings_unique")]

    def __str__(self):
        return f"{self.term} (generation {self.generation})"


class RankingProfile(models.Model):
    """One version of a tenant's ranking: fusion weights and the feature re-ranker's weights.

    Rows are never edited: publishing a change adds the next version, so every answer and evaluation
    can name the exact weights it ranked with. The newest version of a tenant is the one in force;
    without any, `settings.SEARCH_RANKING` applies (version 0).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="ranking_profiles")
    version = models.PositiveIntegerField(editable=False)
    rrf_k = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(1_000)],
        help_text="Reciprocal-rank fusion constant: smaller trusts each leg's top results more.",
    )
    keyword_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    vector_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    fuzzy_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    relevance_weight = models.FloatField(
        validators=[MinValueValidator(0), MaxValueValidator(10)], help_text="Feature re-ranker: the fused relevance."
    )
    margin_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    stock_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    conversion_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    freshness_weight = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    note = models.CharField(max_length=200, blank=True, help_text="Why this version: shown in the history.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "-version"]
        constraints = [models.UniqueConstraint(fields=["tenant", "version"], name="ranking_profile_version")]

    def __str__(self):
        return f"{self.tenant} ranking v{self.version}"


from knowledge.models.events import EntityVersion, EventSecret, EventSource, ReceivedEvent  # noqa: E402, F401
from knowledge.models.ingestion import (  # noqa: E402, F401 - the app's models
    IngestionRun,
    IngestionSettings,
    ProductMedia,
    StagedRecord,
)
from knowledge.models.relevance import RelevanceModel  # noqa: E402, F401
