"""The built-in field families as extractor plug-ins (`pipeline.core.extraction`).

Each wraps one module's rule set; they are registered under the entry point
group `congvan.extractors` in pyproject.toml, exactly as a third-party
extractor would be, and run in `order`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from extractors.confidence import WordConfidence, combine
from extractors.header import extract_header
from extractors.periods import extract_periods
from extractors.recipients import extract_recipients
from extractors.references import extract_references
from extractors.signer import extract_signer
from extractors.tasks import extract_tasks
from pipeline.core.extraction import Evidence


def _wc(evidence: Evidence) -> WordConfidence:
    return WordConfidence(dict(evidence.word_confidence))


class HeaderExtractor:
    """Number, type, issuer, place, issue date, subject (extractors/header.py)."""

    name: ClassVar[str] = "header"
    order: ClassVar[int] = 10
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        header = extract_header(evidence.text, dict(evidence.word_confidence), dict(evidence.slot_readings))
        return {
            "doc_number": header.doc_number, "doc_type": header.doc_type, "issuer": header.issuer,
            "place": header.place, "issue_date": header.issue_date, "subject": header.subject,
            "confidence": dict(header.confidence),
        }


class RecipientsExtractor:
    """`Kính gửi` lines, else `Nơi nhận` (extractors/recipients.py)."""

    name: ClassVar[str] = "recipients"
    order: ClassVar[int] = 20
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        recipients = extract_recipients(evidence.text)
        wc = _wc(evidence)
        confidence = combine("explicit", wc.span(" ".join(recipients), "mean")) if recipients else 0.0
        return {"recipients": recipients, "confidence": {"recipients": confidence}}


class ReferencesExtractor:
    """Documents the letter cites, never its own number (extractors/references.py)."""

    name: ClassVar[str] = "references"
    order: ClassVar[int] = 30
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        wc = _wc(evidence)
        references = extract_references(evidence.text, own_number=evidence.found.get("doc_number"), wc=wc)
        confidence = combine("explicit", wc.span(" ".join(r.doc_number or "" for r in references))) \
            if references else 0.0
        return {"references": references, "confidence": {"references": confidence}}


class PeriodsExtractor:
    """Reporting periods and their due dates (extractors/periods.py)."""

    name: ClassVar[str] = "periods"
    order: ClassVar[int] = 40
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        periods = extract_periods(evidence.text, _wc(evidence), issue_date=evidence.found.get("issue_date"))
        return {"reporting_periods": periods,
                "confidence": {"reporting_periods": combine("explicit", None) if periods else 0.0}}


class TasksExtractor:
    """Obligations with responsible units and deadlines (extractors/tasks.py)."""

    name: ClassVar[str] = "tasks"
    order: ClassVar[int] = 50
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        wc = _wc(evidence)
        tasks = extract_tasks(evidence.text, wc)
        confidence = combine("inferred", wc.span(" ".join(t.text for t in tasks), "mean")) if tasks else 0.0
        return {"tasks": tasks, "confidence": {"tasks": confidence}}


class SignerExtractor:
    """Authority, title and name of the signer block (extractors/signer.py)."""

    name: ClassVar[str] = "signer"
    order: ClassVar[int] = 60
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        signer = extract_signer(evidence.text)
        confidence = combine("explicit", _wc(evidence).span(signer.name)) if signer and signer.name else 0.0
        return {"signer": signer, "confidence": {"signer": confidence}}
