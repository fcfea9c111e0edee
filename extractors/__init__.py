"""Field extractors: one module per field family, joined here.

`extract_fields` reads the full restored text of one letter (pages joined by
blank lines) and returns the directive record's fields.  A field the text does
not state stays None / []: never a guess.  `word_confidence` (OCR word form ->
lowest confidence 0..1) lowers `confidence` and keeps badly read handwritten
numbers and dates out of the record.

With `layout` (pipeline/stages/layout: the letter's zones on its pages), each
field is read from its zone: issuer and number from the header's left
column, place and date from its right column, the subject under the title,
recipients from `Kính gửi`, the signer from the bottom right block; stamps
and e-signature captions are kept out of all of them and give `signature`,
`received` and `urgency`.  `signatures` are the PDF's own digital signatures.

    header.py      number, type, issuer, place, issue date, subject
    recipients.py  Kính gửi / Nơi nhận
    references.py  cited documents
    periods.py     reporting periods and their due dates
    tasks.py       obligations, deadlines, recurrence
    signer.py      authority, title, name
    marks.py       e-signature captions, arrival stamps, urgency
    dates.py       Vietnamese dates and period ends (dateparser)
    spans.py       unit names (spaCy Matcher over underthesea tokens)
    confidence.py  field confidences from OCR word confidences
"""

from __future__ import annotations

from extractors.confidence import WordConfidence, combine
from extractors.header import extract_header, header_bodies, subject_from_zones
from extractors.marks import received_from_stamp, signature_from_caption, urgency_of
from extractors.periods import extract_periods
from extractors.recipients import extract_recipients, recipients_from_zones
from extractors.references import extract_references
from extractors.signer import SURNAMES, extract_signer, signer_from_zone
from extractors.tasks import extract_tasks
from pipeline.core.types import Fields, Layout, Received, Signature, Signer

__all__ = ["extract_fields"]


# OCR words read below this confidence inside a zone are a stamp's or a seal's ink run into the
# line (`tỉnh Lắh! Đồng m......` under an arrival stamp), not the letter's words.
ZONE_WORD_CONFIDENCE = 30.0


def _zone_lines(layout: Layout, zone: str, min_confidence: float = 0.0) -> list[str]:
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


def _marks(layout: Layout) -> tuple[Signature | None, Received | None, str | None]:
    signature = next((s for s in (signature_from_caption(m.text.split("\n"))
                                  for m in layout.marks if m.kind in ("e-signature", "copy")) if s), None)
    received = next((r for r in (received_from_stamp(m.text.split("\n")) for m in layout.marks_of("received")) if r),
                    None)
    urgency = next((u for u in (urgency_of(m.text) for m in layout.marks_of("urgency")) if u), None)
    return signature, received, urgency


def extract_fields(text: str, word_confidence: dict[str, float] | None = None,
                   slot_readings: dict[str, list[str]] | None = None, *,
                   layout: Layout | None = None, signatures: list[Signature] | None = None) -> Fields:
    """`slot_readings`: focused OCR rereads of the header's number and date slots
    (`PageText.header_readings`, see pipeline/header_read.py and slots.py)."""
    wc = WordConfidence(word_confidence)
    letter_text = full_text = text
    if layout is not None and layout.zones:
        # The letter's own text in reading order (each header column whole, marks out);
        # appendices still count for tasks and periods, not for header or signer.
        letter_text = layout.reading_text()
        full_text = "\n\n".join(t for t in (letter_text, layout.text("appendix")) if t)
    # The header is read from the letter alone; the appendix may confirm its date and
    # number (`Kèm theo Quyết định số 109/QĐ-BTC ngày ...`), so citations are looked up in both.
    header = extract_header(letter_text, word_confidence, slot_readings, cited_text=full_text)
    confidence = dict(header.confidence)

    recipients = extract_recipients(letter_text)
    signer = extract_signer(letter_text)
    issuer, issuer_parent, subject = header.issuer, None, header.subject
    if issuer and " / " in issuer:
        # Read from the text stream, the header's bodies come top down (`UBND huyện X / Phòng Nội vụ`):
        # the lowest is the issuer, the one above it the managing body (record.md).
        *parents, issuer = issuer.split(" / ")
        issuer_parent = parents[-1]
    signature: Signature | None = None
    received: Received | None = None
    urgency: str | None = None
    notes: list[str] = []
    if layout is not None and layout.zones:
        zoned_issuer, issuer_parent = header_bodies(_zone_lines(layout, "header_left"))
        if zoned_issuer:
            issuer = zoned_issuer
            confidence["issuer"] = combine("explicit", wc.span(zoned_issuer))
        zoned_subject = subject_from_zones(_zone_lines(layout, "header_left"), _zone_lines(layout, "title"))
        if zoned_subject:
            subject = zoned_subject
            confidence["subject"] = combine("explicit", wc.span(zoned_subject, "mean"))
        # Recipient lists are where stamps land (the `Kính gửi` line, the bottom left): their ink goes.
        zoned_recipients = recipients_from_zones(_zone_lines(layout, "addressees", ZONE_WORD_CONFIDENCE),
                                                 _zone_lines(layout, "recipients", ZONE_WORD_CONFIDENCE))
        if zoned_recipients:
            recipients = zoned_recipients
        if layout.lines("signer"):
            zoned_signer = signer_from_zone(_zone_lines(layout, "signer"))
            signer = _merge_signer(zoned_signer, signer)
        signature, received, urgency = _marks(layout)
        notes += layout.notes
        # A file binding two letters yields the first one's record, and says so.
        confidence["single_letter"] = 0.0 if any("another letter" in note for note in layout.notes) else 1.0
    if signatures:
        # The PDF's own signature outranks a printed caption; the caption names the same act.
        # Of an approval chain (drafter, signer, clerk), the one the letter's signer made is its signature.
        own = [s for s in signatures if signer and signer.name and s.signed_by
               and s.signed_by.casefold() == signer.name.casefold()]
        signature = own[0] if own else signatures[0]
        if header.issue_date and any((s.signed_at or "")[:10] == header.issue_date for s in signatures):
            # A signing day equal to the printed date confirms the date as read.
            confidence["issue_date"] = max(confidence.get("issue_date", 0.0), 0.99)

    references = extract_references(full_text, own_number=header.doc_number, wc=wc)
    periods = extract_periods(full_text, wc)
    tasks = extract_tasks(full_text, wc)

    confidence["recipients"] = combine("explicit", wc.span(" ".join(recipients), "mean")) if recipients else 0.0
    confidence["references"] = combine("explicit", wc.span(" ".join(r.doc_number or "" for r in references))) \
        if references else 0.0
    confidence["reporting_periods"] = combine("explicit", None) if periods else 0.0
    confidence["tasks"] = combine("inferred", wc.span(" ".join(t.text for t in tasks), "mean")) if tasks else 0.0
    confidence["signer"] = combine("explicit", wc.span(signer.name)) if signer and signer.name else 0.0
    if signer and signer.name and signer.name.split()[0] not in SURNAMES:
        # A name whose first letters a seal hid (`Gô Thanh Bình`): read, but not as printed.
        confidence["signer"] = min(confidence["signer"], combine("fallback", None))
    # Only a born-digital letter: a scan's certificate is the copy's or the publisher's
    # (`SAO Y`, the Government portal), whoever signed the paper.
    signed_by = _person(signature.signed_by) if signature and signature.source == "pdf-signature" \
        and not wc.is_ocr else None
    if signed_by and (signer is None or not signer.name):
        # The page shows no readable name but the letter is signed by a person's own
        # certificate: that person signed it (an office's certificate names no one).
        signer = Signer(name=signed_by, title=signer.title if signer else None,
                        authority=signer.authority if signer else None)
        confidence["signer"] = combine("fallback", None)
    confidence["issuer_parent"] = combine("explicit", wc.span(issuer_parent)) if issuer_parent else 0.0
    return Fields(
        doc_number=header.doc_number,
        doc_type=header.doc_type,
        issuer=issuer,
        issuer_parent=issuer_parent,
        place=header.place,
        issue_date=header.issue_date,
        subject=subject,
        recipients=recipients,
        references=references,
        reporting_periods=periods,
        tasks=tasks,
        signer=signer,
        signature=signature,
        received=received,
        urgency=urgency,
        confidence=confidence,
        notes=notes,
    )


def _person(name: str | None) -> str | None:
    """`Nguyễn Xuân Quang` as a certificate's name; None for an office (`VĂN PHÒNG CHÍNH PHỦ`)."""
    words = (name or "").split()
    if not 2 <= len(words) <= 5 or words[0] not in SURNAMES:
        return None
    return name if all(w[:1].isupper() and not w.isupper() for w in words) else None


def _merge_signer(zoned: Signer | None, streamed: Signer | None) -> Signer | None:
    """The signer zone's reading, with the text stream's filling what the zone lacks."""
    if zoned is None:
        return streamed
    if streamed is None:
        return zoned
    return Signer(name=zoned.name or streamed.name, title=zoned.title or streamed.title,
                  authority=zoned.authority or streamed.authority)
