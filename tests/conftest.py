"""Shared fixtures.  Name new fixtures specifically (several areas share this file).

Analyst fixtures (tests/test_analyst_*.py):
  sample_db    a fresh copy of a database built by the real pipeline from the
               sample inbox's letters as text (tests/letters/*.txt, the same
               letters data/inbox holds as scans) plus CITING_LETTER; built
               once and cached in .pytest_cache, keyed by the letters and the
               pipeline's code, so the suite stays fast.
  analyst_db   a small database written row by row, for exact expectations.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The shared data set lies beside the checkout (as in CI); CONGVAN_SHARED may point elsewhere.
SHARED = Path(os.environ.get("CONGVAN_SHARED", ROOT.parent / "shared"))
LETTERS = ROOT / "tests" / "letters"

# A letter that cites Kế hoạch 35/KH-UBND (tests/letters/kh-cchc-caoloc.txt).
# Its file name sorts first, so it is stored before the plan it cites and
# store.py must link the reference when the plan arrives.
CITING_LETTER_NAME = "00-cv-citing-35.txt"
CITING_LETTER = """\
UBND HUYỆN CAO LỘC || CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
PHÒNG NỘI VỤ || Độc lập - Tự do - Hạnh phúc

Số: 61/PNV || Cao Lộc, ngày 11 tháng 3 năm 2024
V/v triển khai Kế hoạch kiểm tra cải cách hành chính năm 2024

Kính gửi: Các cơ quan, đơn vị thuộc huyện.

Thực hiện Kế hoạch số 35/KH-UBND ngày 28/02/2024 của Ủy ban nhân dân huyện
về kiểm tra công tác cải cách hành chính năm 2024, Phòng Nội vụ đề nghị các
cơ quan, đơn vị thực hiện các nội dung sau:
1. Các cơ quan, đơn vị gửi danh sách cán bộ đầu mối về Phòng Nội vụ trước
ngày 18/3/2024.
2. Đề nghị các cơ quan, đơn vị nghiêm túc thực hiện./.

Nơi nhận: || TRƯỞNG PHÒNG
- Như trên;
- Lưu: VT. || Hoàng Văn Tuấn
"""


# Rooms that only read the database or parse arguments: editing them does
# not change the rows, so they do not invalidate the cached sample database.
_READ_SIDE = ("pipeline/analyst/", "pipeline/cli/", "pipeline/training/")


@pytest.fixture(scope="session")
def shared_dev() -> Path:
    """../shared/dev: the real letters and their gold (not in the repository)."""
    dev = SHARED / "dev"
    if not dev.is_dir():
        pytest.skip(f"{dev} is not there (set CONGVAN_SHARED to the shared data folder)")
    return dev


def _sample_key() -> str:
    """Changes when the letters or anything that turns them into rows changes."""
    digest = hashlib.sha256(CITING_LETTER.encode())
    for folder, pattern in ((LETTERS, "*.txt"), (ROOT / "pipeline", "**/*.py"), (ROOT / "extractors", "**/*.py"),
                            (ROOT / "models", "**/*")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and not str(path.relative_to(ROOT)).startswith(_READ_SIDE):
                # Content, not mtime: a checkout or a save without changes keeps the cache.
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _build_sample(target: Path, work: Path) -> None:
    from pipeline.jobs.ingest import Ingestor, collect_files
    from pipeline.stages.store import open_db

    letters = work / "letters"
    letters.mkdir(parents=True)
    (letters / CITING_LETTER_NAME).write_text(CITING_LETTER, encoding="utf-8")
    for path in sorted(LETTERS.glob("*.txt")):
        shutil.copy(path, letters / path.name)
    db = open_db(work / "sample.db")
    with Ingestor(db, jobs=1) as ingestor:
        ingestor.run(collect_files([letters]))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    # Rename into place: another engineer's test run may read the cache at once.
    partial = target.with_suffix(f".{os.getpid()}.partial")
    shutil.copy(work / "sample.db", partial)
    partial.replace(target)


@pytest.fixture(scope="session")
def _sample_db_master(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache_provider = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache = (Path(cache_provider.mkdir("congvan-analyst-sample-db")) if cache_provider
             else tmp_path_factory.mktemp("sample-cache"))
    target = cache / f"sample-{_sample_key()}.db"
    if not target.exists():
        for stale in cache.glob("sample-*.db"):
            stale.unlink(missing_ok=True)
        _build_sample(target, tmp_path_factory.mktemp("sample-build"))
    return target


@pytest.fixture
def sample_db(_sample_db_master: Path, tmp_path: Path) -> Path:
    """Path of a private copy of the sample database (tests may write to it)."""
    # Own folder: a test may use analyst_db too; the name keeps Datasette's "congvan".
    copy = tmp_path / "sample" / "congvan.db"
    copy.parent.mkdir()
    shutil.copy(_sample_db_master, copy)
    return copy


@pytest.fixture
def analyst_db(tmp_path: Path) -> Path:
    """A database with known rows: three letters that cite each other in a chain
    (479/UBND-NV → 35/KH-UBND → 2011/QĐ-UBND), tasks and reporting periods."""
    from pipeline.stages.store import open_db

    path = tmp_path / "analyst" / "congvan.db"
    db = open_db(path)  # creates the folder
    docs = [
        dict(id=1, sha256="a" * 64, source="inbox/qd-2011.pdf", pages=2, text_source="ocr", doc_number="2011/QĐ-UBND",
             doc_type="Quyết định", issuer="Ủy ban nhân dân tỉnh Lạng Sơn", place="Lạng Sơn", issue_date="2023-12-30",
             subject="Ban hành Kế hoạch cải cách hành chính năm 2024",
             text="QUYẾT ĐỊNH ban hành Kế hoạch cải cách hành chính năm 2024 của tỉnh. Đồng bộ dữ liệu.",
             ingested_at="2024-01-02T08:00:00+07:00"),
        dict(id=2, sha256="b" * 64, source="inbox/kh-35.txt", pages=1, text_source="text-file", doc_number="35/KH-UBND",
             doc_type="Kế hoạch", issuer="Ủy ban nhân dân huyện Cao Lộc", place="Cao Lộc", issue_date="2024-02-28",
             subject="Kiểm tra công tác cải cách hành chính năm 2024",
             text="Căn cứ Quyết định số 2011/QĐ-UBND. Giao Phòng Nội vụ xây dựng đề cương kiểm tra.",
             ingested_at="2024-03-01T08:00:00+07:00"),
        dict(id=3, sha256="c" * 64, source="inbox/cv-479.pdf", pages=1, text_source="pdf-text-layer",
             doc_number="479/UBND-NV", doc_type="Công văn", issuer="UBND huyện Đức Cơ / Phòng Nội vụ", place="Đức Cơ",
             issue_date="2024-03-06", subject="V/v báo cáo công tác cải cách hành chính quý I năm 2024",
             text="Thực hiện Kế hoạch số 35/KH-UBND, đề nghị báo cáo định kỳ hằng quý. Điều động cán bộ.",
             ingested_at="2024-03-07T08:00:00+07:00"),
    ]
    db["documents"].insert_all(docs)
    db["references"].insert_all([
        dict(citing_document_id=2, position=0, doc_number="2011/QĐ-UBND", doc_type="Quyết định", date="2023-12-30",
             issuer="Ủy ban nhân dân tỉnh Lạng Sơn", document_id=1),
        dict(citing_document_id=3, position=0, doc_number="35/KH-UBND", doc_type="Kế hoạch", date="2024-02-28",
             issuer="Ủy ban nhân dân huyện Cao Lộc", document_id=2),
        # Read from a stripped scan: no Đ; still the same number.
        dict(citing_document_id=3, position=1, doc_number="2011/QD-UBND", doc_type="Quyết định", date=None,
             issuer=None, document_id=None),
    ])
    db["tasks"].insert_all([
        dict(document_id=2, position=0, text="Giao Phòng Nội vụ xây dựng Đề cương kiểm tra.",
             responsible="Phòng Nội vụ", cooperating="Văn phòng HĐND và UBND huyện", deadline="2024-03-15",
             recurrence=None),
        dict(document_id=2, position=1, text="Các cơ quan tự đánh giá, gửi báo cáo về Phòng Nội vụ.",
             responsible="Các cơ quan, đơn vị", cooperating=None, deadline="2024-04-05", recurrence=None),
        dict(document_id=2, position=2, text="Báo cáo kết quả khắc phục định kỳ hằng quý.",
             responsible="Thủ trưởng các cơ quan", cooperating=None, deadline=None,
             recurrence="định kỳ hằng quý"),
        dict(document_id=3, position=0, text="Văn phòng HĐND và UBND huyện tổng hợp báo cáo Sở Nội vụ.",
             responsible="Văn phòng HĐND và UBND huyện", cooperating=None, deadline="2024-03-25", recurrence=None),
        dict(document_id=1, position=0, text="Sở Nội vụ tổng kết cải cách hành chính năm 2024.",
             responsible="Sở Nội vụ", cooperating=None, deadline="2024-12-31", recurrence=None),
    ])
    db["reporting_periods"].insert_all([
        dict(document_id=3, position=0, label="Quý I/2024", start="2023-12-15", end="2024-03-14", due="2024-03-20"),
        dict(document_id=3, position=1, label="Quý II/2024", start="2024-03-15", end="2024-06-14", due="2024-06-20"),
    ])
    db.conn.close()
    return path
