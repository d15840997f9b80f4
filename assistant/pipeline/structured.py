"""Verify structured drafts (classify, generate): schema first, then the same sentence checks as answers."""

import json
from collections.abc import Generator, Iterable

import jsonschema

from assistant.pipeline.sentences import split_sentences
from assistant.pipeline.types import Claim, Guarded, Prompt, Verified
from assistant.pipeline.verification import SentenceChecker, abstention
from catalog.selectors import products_visible
from core.tenancy import Caller
from governance.models import Verdict

SCHEMA_REASON = "output that does not match the required JSON schema"


class StructuredVerifier:
    """Check a classification or a description draft; the output served is built from what passed."""

    def run(
        self, *, caller: Caller, guarded: Guarded, prompt: Prompt, draft: Iterable[str]
    ) -> Generator[Claim, None, Verified]:
        """Check the JSON draft whole, once complete: no claim is yielded before the answer is decided."""
        text = "".join(draft)
        yield from ()
        return self._verify(SentenceChecker(caller, prompt, guarded.locale), guarded, text)

    def _verify(self, checker: SentenceChecker, guarded: Guarded, draft: str) -> Verified:
        schema = checker.prompt.request.json_schema or {}
        try:
            data = json.loads(draft)
            jsonschema.validate(data, schema)
        except (ValueError, jsonschema.ValidationError):
            reasons = (SCHEMA_REASON,)
            return Verified(Verdict.ABSTAINED, abstention(guarded.locale, reasons), (), (), reasons)
        if guarded.ask.capability == "classify":
            return self._classify(checker, guarded, data)
        return self._generate(checker, guarded, data)

    def _classify(self, checker: SentenceChecker, guarded: Guarded, data: dict) -> Verified:
        label, corrected = data["label"], False
        ask = guarded.ask
        if ask.label_set == "compliance" and ask.target_kind == "product":
            product = products_visible(caller=checker.caller).filter(handle=ask.target).first()
            if product is not None and product.compliance_category != label:
                label, corrected = product.compliance_category, True  # the catalog's own category wins
        numbers = checker.cite(data["citations"])
        output = {"label": label, "confidence": 1.0 if corrected else data["confidence"], "citations": list(numbers)}
        claim = Claim(f"label: {label}", f"label: {data['label']}", "corrected" if corrected else "kept", (), numbers)
        verdict = Verdict.CORRECTED if corrected else Verdict.VERIFIED
        return Verified(verdict, label, (claim,), checker.citations(), (), output)

    def _generate(self, checker: SentenceChecker, guarded: Guarded, data: dict) -> Verified:
        description = [checker.check(s) for s in split_sentences(data["description"])]
        highlights = [checker.check(h) for h in data["highlights"]]
        titles = [p.title for p in checker.prompt.request.passages if p.citation_id.startswith("product:")]
        result = checker.finish()
        if result.verdict == Verdict.ABSTAINED:
            return result
        output = {
            "title": data["title"] if data["title"] in titles else (titles[0] if titles else ""),
            "description": " ".join(c.text for c in description if c.status != "removed"),
            "highlights": [c.text for c in highlights if c.status != "removed"],
        }
        return Verified(
            result.verdict, output["description"], result.claims, result.citations, result.unconfirmed, output
        )
