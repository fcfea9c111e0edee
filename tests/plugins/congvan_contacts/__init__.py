"""A third-party extractor, as a site would write one in its own package.

It adds the field `contact_phones` (telephone and fax numbers printed in the
letter: `ĐT: 0263.3822.456`, `Fax: (024) 3825 1234`) to the record and to the
database, through the `congvan.extractors` entry point declared in
`congvan_contacts-1.0.dist-info/entry_points.txt` beside this folder: not one
line of congvan itself names it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pipeline.core.extraction import Evidence

PHONE_RE = re.compile(
    r"(?:ĐT|Điện thoại|Tel|Fax|SĐT)\s*[:.]?\s*(?P<number>\(?\+?\d[\d\s.()\-]{7,16}\d)", re.IGNORECASE
)


class ContactsExtractor:
    name: ClassVar[str] = "contacts"
    order: ClassVar[int] = 100
    columns: ClassVar[dict[str, type]] = {"contact_phones": str}

    def extract(self, evidence: Evidence) -> dict[str, Any]:
        phones = [re.sub(r"[\s.()\-]", "", m["number"]) for m in PHONE_RE.finditer(evidence.text)]
        return {"contact_phones": list(dict.fromkeys(phones)), "confidence": {"contact_phones": 0.9 if phones else 0.0}}
