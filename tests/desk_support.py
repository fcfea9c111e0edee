"""A small database for the review desk's tests, built by the real pipeline
(no OCR: a born-digital PDF and text letters), with the PDF kept where the
inbox keeps originals (done/YYYY/MM/) so the desk must find it there.

- 2011/QĐ-UBND (text), the decision the plan cites;
- the plan 35/KH-UBND as a PDF whose number was left blank (doc_number null:
  first in the review queue), citing 2011/QĐ-UBND ngày 30/12/2023;
- 61/PNV (text), citing Kế hoạch số 35/KH-UBND ngày 28/02/2024: linked only once
  the plan's number is corrected.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from conftest import CITING_LETTER  # noqa: E402
from pagemaker import LETTER, born_digital_pdf  # noqa: E402

DECISION = """\
ỦY BAN NHÂN DÂN || CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH LẠNG SƠN || Độc lập - Tự do - Hạnh phúc

Số: 2011/QĐ-UBND || Lạng Sơn, ngày 30 tháng 12 năm 2023

>>QUYẾT ĐỊNH
>>Ban hành Kế hoạch cải cách hành chính năm 2024

CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN

Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;
Xét đề nghị của Giám đốc Sở Nội vụ tại Tờ trình số 120/TTr-SNV,

QUYẾT ĐỊNH:
Điều 1. Ban hành kèm theo Quyết định này Kế hoạch cải cách hành chính năm 2024.
Điều 2. Sở Nội vụ chủ trì theo dõi, tổng hợp, báo cáo kết quả trước ngày 15/12/2024.
Điều 3. Quyết định này có hiệu lực kể từ ngày ký.

Nơi nhận: || CHỦ TỊCH
- Như Điều 3;
- Lưu: VT. || Hồ Tiến Thiệu
"""
PLAN_WITHOUT_NUMBER = LETTER.replace("Số: 35/KH-UBND", "Số:        /KH-UBND")


def build_desk_db(root: Path) -> Path:
    """root/congvan.db, root/done/2024/03/kh-35.pdf (the kept original); returns the database path."""
    from pipeline.jobs.ingest import Ingestor
    from pipeline.stages.store import open_db

    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    decision = inbox / "qd-2011.txt"
    decision.write_text(DECISION, encoding="utf-8")
    plan = born_digital_pdf(PLAN_WITHOUT_NUMBER, inbox / "kh-35.pdf")
    citing = inbox / "cv-61.txt"
    citing.write_text(CITING_LETTER, encoding="utf-8")
    db_path = root / "congvan.db"
    db = open_db(db_path)
    with Ingestor(db, jobs=1) as ingestor:
        summary = ingestor.run([decision, plan, citing])
    assert [o.status for o in summary.outcomes] == ["stored"] * 3, [o.error for o in summary.outcomes]
    db.conn.close()
    # Where `congvan inbox` would have filed it: the desk finds it there by its SHA-256.
    done = root / "done" / "2024" / "03"
    done.mkdir(parents=True)
    shutil.move(plan, done / plan.name)
    return db_path
