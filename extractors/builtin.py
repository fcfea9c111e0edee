"""The built-in field families as extractor plug-ins (`pipeline.core.extraction`).

Each wraps one module's rule set; they are registered under the entry point
group `congvan.extractors` in pyproject.toml, exactly as a third-party
extractor would be, and run in `order`:

    10 header      number, type, issuer (+ managing body), place, issue date, subject
    20 recipients  `Kính gửi` / `Nơi nhận`
    30 references  documents cited
    40 periods     reporting periods and their due dates
    50 tasks       obligations, responsible units, deadlines
    55 recurring   due dates of recurring duties (extractors/recurring.py)
    60 signer      authority, title, name
    70 marks       digital signature, arrival stamp, urgency

With a layout in `Evidence.context["layout"]` (pipeline/stages/layout), the
header, recipients and signer are read from their zones and the marks from
the stamps and captions kept out of them; without one, from the text stream.
"""

from __future__ import annotations

from typing import Any, ClassVar

from extractors.confidence import WordConfidence, combine, list_confidence
from extractors.header import extract_header, header_bodies, name_with_committee, subject_from_zones
from extractors.marks import received_from_stamp, signature_from_caption, urgency_of
from extractors.periods import extract_periods
from extractors.recipients import extract_recipients, recipients_from_zones
from extractors.references import extract_references
from extractors.signer import SURNAMES, extract_signer, mend_surname, signer_from_zone
from extractors.tables import extract_table_tasks, is_from_table, table_words
from extractors.tasks import extract_tasks
from pipeline.core.extraction import Evidence
from pipeline.core.types import Layout, Received, Signature, Signer, Table, Task

# OCR words read below this confidence inside a zone are a stamp's or a seal's ink run into the
# line (`tỉnh Lắh! Đồng m......` under an arrival stamp), not the letter's words.
ZONE_WORD_CONFIDENCE = 30.0
# A signer's name read again under the seal whose first word is no surname (`Xýấn Hồng Hà`): shown, not trusted.
UNSURE_NAME = 0.5


def _wc(evidence: Evidence) -> WordConfidence:
    return WordConfidence(dict(evidence.word_confidence))


def _layout(evidence: Evidence) -> Layout | None:
    layout = evidence.context.get("layout")
    return layout if isinstance(layout, Layout) and layout.zones else None


def _signatures(evidence: Evidence) -> list[Signature]:
    return list(evidence.context.get("signatures") or [])


def letter_text(evidence: Evidence) -> str:
    """The letter's own text in reading order (each header column whole, marks out)."""
    layout = _layout(evidence)
    return layout.reading_text() if layout else evidence.text


def full_text(evidence: Evidence) -> str:
    """The letter and its appendices: tasks, periods and citations count there too."""
    layout = _layout(evidence)
    if layout is None:
        return evidence.text
    return "\n\n".join(t for t in (layout.reading_text(), layout.text("appendix")) if t)


def zone_lines(layout: Layout, zone: str, min_confidence: float = 0.0) -> list[str]:
    """The zone's lines; with `min_confidence`, without the OCR words read below it."""
    lines = []
    for line in layout.lines(zone):
        if line.confidence is None or not line.words or not min_confidence:
            lines.append(line.text)
            continue
        kept = [w.text for w in line.words if w.confidence >= min_confidence]
        if kept:
            lines.append(" ".join(kept))
    return lines


class HeaderExtractor:
    """Number, type, issuer and its managing body, place, issue date, subject (header.py)."""

    name: ClassVar[str] = "header"
    order: ClassVar[int] = 10
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        wc = _wc(evidence)
        # The header is read from the letter alone; the appendix may confirm its date and
        # number (`Kèm theo Quyết định số 109/QĐ-BTC ngày ...`), so citations are looked up in both.
        header = extract_header(letter_text(evidence), dict(evidence.word_confidence),
                                dict(evidence.slot_readings), cited_text=full_text(evidence),
                                signed_text=evidence.text)  # the e-signature caption, for handwritten days
        confidence = dict(header.confidence)
        issuer, issuer_parent, subject = header.issuer, None, header.subject
        if issuer and " / " in issuer:
            # Read from the text stream, the header's bodies come top down (`UBND huyện X / Phòng Nội vụ`):
            # the lowest is the issuer, the one above it the managing body (record.md).
            *parents, issuer = issuer.split(" / ")
            issuer_parent = parents[-1]
        notes: list[str] = []
        layout = _layout(evidence)
        if layout is not None:
            zoned_issuer, issuer_parent = header_bodies(zone_lines(layout, "header_left"))
            if zoned_issuer:
                issuer = zoned_issuer
                confidence["issuer"] = combine("explicit", wc.span(zoned_issuer))
            zoned_subject = subject_from_zones(zone_lines(layout, "header_left"), zone_lines(layout, "title"))
            if zoned_subject:
                subject = zoned_subject
                confidence["subject"] = combine("explicit", wc.span(zoned_subject, "mean"))
            notes = list(layout.notes)
            # A file binding two letters yields the first one's record, and says so.
            confidence["single_letter"] = 0.0 if any("another letter" in note for note in notes) else 1.0
        issuer = name_with_committee(issuer, issuer_parent)
        confidence["issuer_parent"] = combine("explicit", wc.span(issuer_parent)) if issuer_parent else 0.0
        return {
            "doc_number": header.doc_number, "doc_type": header.doc_type, "issuer": issuer,
            "issuer_parent": issuer_parent, "place": header.place, "issue_date": header.issue_date,
            "subject": subject, "notes": notes, "confidence": confidence,
        }


class RecipientsExtractor:
    """`Kính gửi` lines, else `Nơi nhận` (recipients.py)."""

    name: ClassVar[str] = "recipients"
    order: ClassVar[int] = 20
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        recipients = extract_recipients(letter_text(evidence))
        layout = _layout(evidence)
        if layout is not None:
            # Recipient lists are where stamps land (the `Kính gửi` line, the bottom left): their ink goes.
            zoned = recipients_from_zones(zone_lines(layout, "addressees", ZONE_WORD_CONFIDENCE),
                                          zone_lines(layout, "recipients", ZONE_WORD_CONFIDENCE))
            recipients = zoned or recipients
        wc = _wc(evidence)
        confidence = list_confidence(combine("explicit", wc.span(" ".join(recipients), "mean")), len(recipients))
        return {"recipients": recipients, "confidence": {"recipients": confidence}}


class ReferencesExtractor:
    """Documents the letter cites, never its own number (references.py)."""

    name: ClassVar[str] = "references"
    order: ClassVar[int] = 30
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        wc = _wc(evidence)
        unread: list[str] = []
        references = extract_references(full_text(evidence), own_number=evidence.found.get("doc_number"), wc=wc,
                                        unread=unread)
        confidence = list_confidence(combine("explicit", wc.span(" ".join(r.doc_number or "" for r in references))),
                                     len(references))
        if unread:  # a citation's printed date was not read: the list is not the letter's whole word
            confidence = min(confidence, combine("fallback", None))
        return {"references": references, "confidence": {"references": confidence}}


class PeriodsExtractor:
    """Reporting periods and their due dates (periods.py)."""

    name: ClassVar[str] = "periods"
    order: ClassVar[int] = 40
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        periods = extract_periods(full_text(evidence), _wc(evidence), issue_date=evidence.found.get("issue_date"))
        return {"reporting_periods": periods,
                "confidence": {"reporting_periods": list_confidence(combine("explicit", None), len(periods))}}


def _all_tasks(text: str, wc: WordConfidence, tables: list[Table], issue_date: str | None = None) -> list[Task]:
    """Prose tasks, then table tasks; prose "tasks" that are a task table read as text are dropped."""
    table_tasks = extract_table_tasks(tables)
    prose = extract_tasks(text, wc, issue_date)
    if table_tasks:
        shingles = table_words(tables)
        prose = [task for task in prose if not is_from_table(task.text, shingles)]
    return prose + table_tasks


class TasksExtractor:
    """Obligations with responsible units and deadlines, in prose (tasks.py) and in
    task tables (tables.py: one task a row, `source="table"`); tables come in
    `Evidence.context["tables"]` (Word files, PDF drawings, ruled scans)."""

    name: ClassVar[str] = "tasks"
    order: ClassVar[int] = 50
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        wc = _wc(evidence)
        tasks = _all_tasks(full_text(evidence), wc, list(evidence.context.get("tables") or []),
                           evidence.found.get("issue_date"))
        confidence = combine("inferred", wc.span(" ".join(t.text for t in tasks), "mean")) if tasks else 0.0
        return {"tasks": tasks, "confidence": {"tasks": confidence}}


def _person(name: str | None) -> str | None:
    """`Nguyễn Xuân Quang` as a certificate's name; None for an office (`VĂN PHÒNG CHÍNH PHỦ`)."""
    words = (name or "").split()
    if not 2 <= len(words) <= 5 or words[0] not in SURNAMES:
        return None
    return name if all(w[:1].isupper() and not w.isupper() for w in words) else None


def _merge_signer(zoned: Signer | None, streamed: Signer | None) -> Signer | None:
    """The signer zone's reading, with the text stream's filling what the zone lacks."""
    if zoned is None or streamed is None:
        return zoned or streamed
    return Signer(name=zoned.name or streamed.name, title=zoned.title or streamed.title,
                  authority=zoned.authority or streamed.authority)


def _caption_signature(layout: Layout | None) -> Signature | None:
    if layout is None:
        return None
    captions = (signature_from_caption(m.text.split("\n")) for m in layout.marks if m.kind in ("e-signature", "copy"))
    return next((s for s in captions if s), None)


def letter_signature(evidence: Evidence, signer: Signer | None) -> Signature | None:
    """The PDF's own signature outranks a printed caption (they name the same act); of an
    approval chain (drafter, signer, clerk), the one the letter's signer made is its signature."""
    signatures = _signatures(evidence)
    if not signatures:
        return _caption_signature(_layout(evidence))
    own = [s for s in signatures if signer and signer.name and s.signed_by
           and s.signed_by.casefold() == signer.name.casefold()]
    return own[0] if own else signatures[0]


class SignerExtractor:
    """Authority, title and name of the signer block (signer.py)."""

    name: ClassVar[str] = "signer"
    order: ClassVar[int] = 60
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        wc = _wc(evidence)
        signer = extract_signer(letter_text(evidence))
        layout = _layout(evidence)
        if layout is not None and layout.lines("signer"):
            signer = _merge_signer(signer_from_zone(zone_lines(layout, "signer")), signer)
        confidence = combine("explicit", wc.span(signer.name)) if signer and signer.name else 0.0
        reread = signer_from_zone(zone_lines(layout, "signer_read")) if layout is not None else None
        if reread and reread.name and (signer is None or not signer.name or signer.name.split()[0] not in SURNAMES):
            # The page pass read no name under the seal; the block read again in colour did
            # (pipeline/stages/signer_read.py).  Its own OCR confidence is not in the page's table.
            name = mend_surname(reread.name)
            # The block read again also reads its capitals better than through the seal's specks.
            title = reread.title if reread.title and all(w.isalpha() for w in reread.title.split()) else None
            signer = Signer(name=name, title=title or (signer.title if signer else None),
                            authority=(signer.authority if signer else None) or reread.authority)
            read = max((ln.confidence or 0.0 for ln in layout.lines("signer_read")  # type: ignore[union-attr]
                        if name.split()[-1] in ln.text), default=0.0)
            confidence = combine("inferred", read)
            if name.split()[0] not in SURNAMES:
                confidence = min(confidence, UNSURE_NAME)  # a surname no seal-free reading gave
        if signer and signer.name and signer.name.split()[0] not in SURNAMES:
            # A name whose first letters a seal hid (`Gô Thanh Bình`): read, but not as printed.
            confidence = min(confidence, combine("fallback", None))
        # Only a born-digital letter: a scan's certificate is the copy's or the publisher's
        # (`SAO Y`, the Government portal), whoever signed the paper.
        signature = letter_signature(evidence, signer)
        signed_by = _person(signature.signed_by) if signature and signature.source == "pdf-signature" \
            and not wc.is_ocr else None
        if signed_by and (signer is None or not signer.name):
            # The page shows no readable name but the letter is signed by a person's own
            # certificate: that person signed it (an office's certificate names no one).
            signer = Signer(name=signed_by, title=signer.title if signer else None,
                            authority=signer.authority if signer else None)
            confidence = combine("fallback", None)
        return {"signer": signer, "confidence": {"signer": confidence}}


class MarksExtractor:
    """What other hands put on the page: the digital signature, the arrival stamp, the
    urgency stamp (marks.py); a signing day equal to the printed date confirms the date."""

    name: ClassVar[str] = "marks"
    order: ClassVar[int] = 70
    columns: ClassVar[dict[str, type]] = {}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        layout = _layout(evidence)
        received: Received | None = None
        urgency: str | None = None
        if layout is not None:
            received = next((r for r in (received_from_stamp(m.text.split("\n"))
                                         for m in layout.marks_of("received")) if r), None)
            urgency = next((u for u in (urgency_of(m.text) for m in layout.marks_of("urgency")) if u), None)
        signature = letter_signature(evidence, evidence.found.get("signer"))
        confidence: dict[str, float] = {}
        issue_date = evidence.found.get("issue_date")
        if issue_date and any((s.signed_at or "")[:10] == issue_date for s in _signatures(evidence)):
            # A signing day equal to the printed date confirms the date as read.
            confidence["issue_date"] = max(evidence.confidence.get("issue_date", 0.0), 0.99)
        return {"signature": signature, "received": received, "urgency": urgency, "confidence": confidence}
