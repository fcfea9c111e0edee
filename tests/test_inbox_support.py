"""Shared pieces of the inbox tests: letters, bad files, running the real command."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

UNITS = ["Phòng Tài chính - Kế hoạch", "Phòng Nội vụ", "Phòng Văn hóa và Thông tin", "Phòng Giáo dục và Đào tạo",
         "Phòng Tài nguyên và Môi trường", "Văn phòng HĐND và UBND"]


def letter(i: int) -> str:
    """A short, valid Vietnamese letter; `i` makes its number (and bytes) unique."""
    unit = UNITS[i % len(UNITS)]
    day = 1 + i % 27
    return (
        "ỦY BAN NHÂN DÂN || CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
        "HUYỆN CAO LỘC || Độc lập - Tự do - Hạnh phúc\n\n"
        f"Số: {100 + i}/UBND-VP || Cao Lộc, ngày {day} tháng 3 năm 2024\n\n"
        f"V/v triển khai kế hoạch công tác số {i} năm 2024\n\n"
        "Kính gửi: Các phòng, ban chuyên môn thuộc UBND huyện.\n\n"
        "Thực hiện chỉ đạo của UBND tỉnh về cải cách hành chính, UBND huyện yêu cầu:\n"
        f"1. {unit} chủ trì, phối hợp với các đơn vị liên quan rà soát thủ tục hành chính; "
        f"báo cáo kết quả về UBND huyện trước ngày {day}/4/2024.\n"
        "2. Các cơ quan, đơn vị tăng cường kỷ luật, kỷ cương hành chính, nâng cao chất lượng phục vụ người dân.\n"
        "Yêu cầu các đơn vị nghiêm túc thực hiện./.\n\n"
        "Nơi nhận: || TM. ỦY BAN NHÂN DÂN\n"
        "- Như trên; || CHỦ TỊCH\n"
        "- Lưu: VT. || Nguyễn Văn An\n"
    )


ENGLISH = ("Dear colleagues, please find attached the minutes of the quarterly review meeting. "
           "The committee agreed to extend the deadline for the regional report until the end of next month, "
           "and asked every department to send its figures to the secretariat before Friday. ") * 2

BAD_FILES: dict[str, tuple[bytes, str]] = {
    # name: (bytes, a piece of the cause the .error.txt must give)
    "empty.pdf": (b"", "empty file"),
    "photo.pdf": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "content is a JPEG image"),
    "truncated.pdf": (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 8, "truncated PDF"),
    "minutes-en.txt": (ENGLISH.encode(), "not a Vietnamese letter"),
    "garbage.txt": (bytes(range(256)) * 16, "not a PDF, an image or UTF-8 text"),
}

IGNORED = ["~$draft.docx", "scan.pdf.part", "Thumbs.db", ".hidden.txt"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def make_letters(inbox: Path, count: int, start: int = 0, sub_every: int = 5) -> dict[str, bytes]:
    """`count` distinct letters, every `sub_every`-th one in a subfolder; name -> bytes."""
    made = {}
    for i in range(start, start + count):
        name = f"cv-{i:03d}.txt"
        rel = f"sub{i % 3}/{name}" if sub_every and i % sub_every == 0 else name
        data = letter(i).encode("utf-8")
        write(inbox / rel, data)
        made[rel] = data
    return made


FAULTS_PLUGIN = ROOT / "tests" / "plugins" / "faults.py"


def env(**extra: str) -> dict[str, str]:
    """The run's environment; a CONGVAN_FAULT_* setting loads the fault-injection plug-in."""
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("CONGVAN_FAULT_") and k != "CONGVAN_PLUGINS"}
    environment.update(OMP_THREAD_LIMIT="1", PYTHONUNBUFFERED="1", **extra)
    if any(key.startswith("CONGVAN_FAULT_") for key in extra):
        environment["CONGVAN_PLUGINS"] = str(FAULTS_PLUGIN)
    return environment


def command(inbox: Path, db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli.main", "inbox", str(inbox), "--db", str(db), "--settle", "0",
            "--jobs", "2", *args]


def run(inbox: Path, db: Path, *args: str, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(inbox, db, *args), cwd=ROOT, env=env(**extra), capture_output=True,
                          text=True, timeout=timeout)


def start(inbox: Path, db: Path, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(command(inbox, db, *args), cwd=ROOT, env=env(**extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 180, stream: str = "stdout") -> list[str]:
    """Read the process's stdout (or stderr) until a line holds `needle`; return the lines read."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    pipe = getattr(process, stream)
    assert pipe is not None
    while time.monotonic() < deadline:
        line = pipe.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"no line with {needle!r} (exit {process.poll()}); got:\n{''.join(lines)}")


def kill_group(process: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def db_counts(db: Path) -> dict[str, object]:
    connection = sqlite3.connect(db)
    try:
        documents = connection.execute("select count(*), count(distinct sha256) from documents").fetchone()
        orphans = 0
        for table, owner in [("recipients", "document_id"), ("references", "citing_document_id"),
                             ("reporting_periods", "document_id"), ("tasks", "document_id"),
                             ("pages", "document_id"), ("changes", "document_id")]:
            orphans += connection.execute(
                f'select count(*) from "{table}" where {owner} not in (select id from documents)'
            ).fetchone()[0]
        pageless = connection.execute(
            "select count(*) from documents where id not in (select document_id from pages)"
        ).fetchone()[0]
        return {
            "documents": documents[0], "distinct": documents[1], "orphans": orphans, "pageless": pageless,
            "shas": {row[0] for row in connection.execute("select sha256 from documents")},
            "integrity": connection.execute("pragma integrity_check").fetchone()[0],
        }
    finally:
        connection.close()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
