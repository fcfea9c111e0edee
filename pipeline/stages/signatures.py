"""The PDF's own digital signatures: who signed, for which organisation, when.

Vietnamese signing services (VGCA, VNPT SmartCA, Viettel-CA, the Government
portal) put a signature field in the PDF whose CMS data holds the signer's
certificate; `/M` or the CMS signing-time attribute says when.  These are
evidence about the letter (extractors use a signing day that equals the
printed date to be surer of it), never a source for a date the page does
not print.  Nothing here verifies the signature cryptographically.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pipeline.core.types import Signature


def _pdf_time(value: str | None) -> str | None:
    """`D:20260110154353+07'00'` -> `2026-01-10T15:43:53+07:00`."""
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:([+\-])(\d{2})'?(\d{2})'?|Z)?", value or "")
    if not match:
        return None
    y, mo, d, h, mi, s, sign, oh, om = match.groups()
    try:
        stamp = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    except ValueError:
        return None
    if sign:
        offset = timedelta(hours=int(oh), minutes=int(om))
        stamp = stamp.replace(tzinfo=timezone(offset if sign == "+" else -offset))
    elif value and value.rstrip().endswith("Z"):
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.isoformat()


def _certificate_names(contents: bytes) -> tuple[str | None, str | None, str | None]:
    """(common name, organisation, signing time) from a CMS SignedData blob."""
    try:
        from asn1crypto import cms
    except ImportError:
        return None, None, None
    try:
        info = cms.ContentInfo.load(contents.rstrip(b"\x00"))
        signed = info["content"]
        signer = signed["signer_infos"][0]
        serial = signer["sid"].native.get("serial_number") if signer["sid"].name == "issuer_and_serial_number" else None
        cert = next((c.chosen for c in signed["certificates"]
                     if serial is None or c.chosen.serial_number == serial), None)
        subject: dict[str, Any] = cert.subject.native if cert is not None else {}
        when = None
        for attribute in signer["signed_attrs"] or []:
            if attribute["type"].native == "signing_time":
                when = attribute["values"][0].native.isoformat()
        return subject.get("common_name"), subject.get("organization_name"), when
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None, None, None


def read_pdf_signatures(path: Path) -> list[Signature]:
    """Every signature field's signer, organisation and time, in the file's field order."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:
        return []
    # pypdf reports each oddity of a file's structure it reads around (`Multiple definitions in
    # dictionary`); the loader has judged the file already, so the signature reading stays quiet.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        fields = reader.get_fields() or {}
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return []
    found: list[Signature] = []
    for field in fields.values():
        if field.get("/FT") != "/Sig" or field.get("/V") is None:
            continue
        try:
            value = field["/V"].get_object()
            contents = value.get("/Contents")
            raw = bytes(contents) if contents is not None else b""
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
            continue
        name, organisation, when = _certificate_names(raw) if raw else (None, None, None)
        reason = str(value.get("/Reason") or "")
        # `VĂN PHÒNG CHÍNH PHỦ<vanphongchinhphu@chinhphu.vn> đã ký lên văn bản này!`
        by_reason = re.match(r"^\s*(?P<who>[^<]+?)\s*<[^>]*>\s*đã ký", reason)
        signed_by = str(value.get("/Name") or "") or name or (by_reason.group("who") if by_reason else None)
        found.append(Signature(signed_by=signed_by or None, organisation=organisation,
                               signed_at=_pdf_time(str(value.get("/M") or "")) or when, source="pdf-signature"))
    return found
