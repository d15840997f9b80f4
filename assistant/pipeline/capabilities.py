"""The five capabilities as entries of one registry naming their steps, and the JSON schemas of the structured ones."""

from dataclasses import dataclass

from assistant.pipeline.prompting import PromptAssembler
from assistant.pipeline.retrieval import HybridRetriever, TargetOrHybridRetriever, TargetRetriever
from assistant.pipeline.roles import Assembler, Retriever, Verifier
from assistant.pipeline.structured import StructuredVerifier
from assistant.pipeline.types import Ask
from assistant.pipeline.verification import CatalogVerifier

INTENT_LABELS = {
    "product_question": "spec specification feature size weight battery compatible compatibility work fit does",
    "order_status": "order status tracking track parcel where arrived arrive bestellung sendungsverfolgung",
    "returns": "return returns refund send back exchange withdraw cancel rückgabe zurückschicken erstattung",
    "warranty": "warranty guarantee broken faulty defect repair stopped working garantie defekt reparatur",
    "shipping": "shipping delivery dispatch deliver courier express cost postage versand lieferung",
    "pricing": "price cost discount cheaper offer business trade quote preis rabatt",
    "complaint": "complaint unhappy angry terrible disappointed rude never again beschwerde",
    "other": "",
}
COMPLIANCE_LABELS = {
    "contains_batteries": "battery batteries lithium li-ion rechargeable akku charge charging cordless mah wh",
    "age_restricted": "18+ adults adult only age restricted pegi 18 alcohol volljährig",
    "hazardous": "hazardous flammable corrosive aerosol adhesive toxic hazard statements gefahrstoff",
    "none": "",
}
LABEL_SETS = {"intent": INTENT_LABELS, "compliance": COMPLIANCE_LABELS}


def classify_schema(label_set: str) -> dict:
    """The JSON a classification must match; each label's description lists its cue words (last label: fallback)."""
    labels = LABEL_SETS[label_set]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["label", "confidence", "citations"],
        "properties": {
            "label": {"type": "string", "oneOf": [{"const": k, "description": v} for k, v in labels.items()]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "citations": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 10},
        },
    }


GENERATE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description", "highlights"],
    "properties": {
        "title": {"type": "string", "maxLength": 300},
        "description": {"type": "string", "maxLength": 4000},
        "highlights": {"type": "array", "items": {"type": "string", "maxLength": 300}, "maxItems": 12},
    },
}


def classify_schema_for(ask: Ask) -> dict:
    return classify_schema(ask.label_set or "intent")


@dataclass(frozen=True)
class Capability:
    """One capability as the steps it runs: who retrieves, how the prompt is built, who verifies."""

    name: str
    retriever: Retriever
    assembler: Assembler
    verifier: Verifier


CATALOG_VERIFIER, STRUCTURED_VERIFIER = CatalogVerifier(), StructuredVerifier()
CAPABILITIES = {
    c.name: c
    for c in (
        Capability("chat", HybridRetriever(k=8), PromptAssembler("chat"), CATALOG_VERIFIER),
        Capability("search", HybridRetriever(k=10), PromptAssembler("search"), CATALOG_VERIFIER),
        # A document named by the request is read whole; otherwise the product's reviews.
        Capability("summarize", TargetRetriever("reviews"), PromptAssembler("summarize"), CATALOG_VERIFIER),
        Capability(
            "classify",
            TargetOrHybridRetriever(TargetRetriever("product"), HybridRetriever(k=5)),
            PromptAssembler("classify", json_schema=classify_schema_for),
            STRUCTURED_VERIFIER,
        ),
        Capability(
            "generate",
            TargetRetriever("product"),
            PromptAssembler("generate", json_schema=GENERATE_SCHEMA),
            STRUCTURED_VERIFIER,
        ),
    )
}


def capability(name: str) -> Capability:
    """Return the capability's steps (ValueError for an unknown name)."""
    try:
        return CAPABILITIES[name]
    except KeyError:
        raise ValueError(f"unknown capability {name!r}") from None
