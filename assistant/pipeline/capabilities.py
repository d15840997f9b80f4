"""The five capabilities as configurations of the same steps, and the JSON schemas of the structured ones."""

from dataclasses import dataclass

from assistant.pipeline.prompting import PromptAssembler
from assistant.pipeline.retrieval import HybridRetriever, TargetRetriever

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


@dataclass(frozen=True)
class CapabilityConfig:
    name: str
    retriever: HybridRetriever | TargetRetriever
    structured: bool = False


def capability_config(name: str, *, target_kind: str | None = None, label_set: str | None = None):
    """Return the steps' configuration and the prompt assembler for one request."""
    if name == "chat":
        config = CapabilityConfig(name, HybridRetriever(k=8))
    elif name == "search":
        config = CapabilityConfig(name, HybridRetriever(k=10))
    elif name == "summarize":
        config = CapabilityConfig(name, TargetRetriever("document" if target_kind == "document" else "reviews"))
    elif name == "classify":
        retriever = TargetRetriever("product") if target_kind == "product" else HybridRetriever(k=5)
        config = CapabilityConfig(name, retriever, structured=True)
    elif name == "generate":
        config = CapabilityConfig(name, TargetRetriever("product"), structured=True)
    else:
        raise ValueError(f"unknown capability {name!r}")
    schema = classify_schema(label_set or "intent") if name == "classify" else None
    schema = GENERATE_SCHEMA if name == "generate" else schema
    return config, PromptAssembler(name, json_schema=schema)
