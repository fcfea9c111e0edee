"""Unit-name spans over underthesea word tokens.

underthesea joins Vietnamese compounds into one token (`chủ trì`, `phối hợp`,
`thực hiện`, `Nội vụ`), so looking its tokens up in a list of duty verbs finds
where a unit's name ends and its duty's verb begins:
`Phòng Nội vụ - LĐTB&XH thị xã | đôn đốc ...`.

(This was a spaCy Matcher with one `{"LOWER": {"IN": DUTY_VERBS}}` pattern:
a lower-cased set lookup per token, which is all it did, while importing
spaCy cost two seconds of every nightly run.)
"""

from __future__ import annotations

import re

# Verbs (as underthesea tokens) that end a unit name and start its duty.
DUTY_VERBS = [
    "chủ trì", "phối hợp", "thực hiện", "theo dõi", "tham mưu", "xây dựng", "tổ chức", "triển khai",
    "có trách nhiệm", "chịu trách nhiệm", "trách nhiệm", "hướng dẫn", "kiểm tra", "rà soát", "tổng hợp",
    "đôn đốc", "báo cáo", "gửi", "cung cấp", "tiếp tục", "khẩn trương", "ban hành", "lập", "làm",
    "là", "cơ quan", "đơn vị", "sẽ", "có", "phải", "nghiên cứu", "tuyên truyền", "đề xuất", "trình",
    "bảo đảm", "đảm bảo", "tăng cường", "quán triệt", "công nhận", "tự", "thống kê", "căn cứ", "phấn đấu",
    "chỉ đạo", "giám sát", "cập nhật", "hoàn thành", "chuẩn bị", "bố trí", "phân công",
    "thẩm định", "kịp thời", "nghiêm túc", "chủ động", "tập trung", "xem xét", "rà",
    # Words after a unit that are not its name (`Bộ Ngoại giao | trân trọng thông báo`, `Tổ công tác | chịu ...`).
    "trân trọng", "thông báo", "đề nghị", "yêu cầu", "chịu", "kính", "xin", "cần", "nhằm", "để", "giao", "đã", "đang",
    "lồng ghép", "tích cực", "phát huy", "thường xuyên", "định kỳ", "nâng cao", "đẩy mạnh",
    "đưa", "được", "trực tiếp", "thì", "đăng ký", "tham gia", "tham dự", "nộp", "cử", "quan tâm",
]
# Words a unit's name never ends with: a span cut there lost its tail or kept the sentence's.
TRAILING_WORDS = re.compile(r"(?:\s+(?:của|và|với|các|tại|ở|cho|về|có|là|như|trên|theo))+$", re.I)
UNIT_HEADS = [
    "phòng", "sở", "ban", "ubnd", "ủy ban", "văn phòng", "các", "thủ trưởng", "công an", "trung tâm", "cục",
    "bộ", "chi cục", "hđnd", "mặt trận", "đoàn", "hội", "kho bạc", "ngân hàng", "thanh tra",
    "chủ tịch", "đài", "ban chỉ huy", "bộ chỉ huy", "viện", "cục trưởng", "giám đốc", "chánh văn phòng",
    "vụ trưởng", "trưởng phòng", "trưởng ban", "bệnh viện", "cơ quan", "đơn vị",
    "lãnh đạo", "người đứng đầu", "hội đồng", "tòa án", "viện kiểm sát", "liên đoàn", "tỉnh đoàn",
    "báo", "tạp chí", "trường", "tổ công tác", "đảng ủy", "đảng uỷ", "tỉnh ủy", "huyện ủy", "thường trực",
    "hiệu trưởng", "ủy ban mttq", "uỷ ban",
]
# Words that open a sentence, not a unit, though they begin like one (`Báo cáo ...`, `Trường hợp ...`).
NOT_UNIT_OPENINGS = ("báo cáo", "trường hợp", "thường trực tiếp")
DUTY_VERB_SET = frozenset(DUTY_VERBS)
MAX_UNIT_TOKENS = 30
# Nouns in DUTY_VERBS that are part of a list of units after `các`, `,`, `và`.
LIST_NOUNS = {"cơ quan", "đơn vị", "tổ chức"}
LIST_JOINERS = {"các", ",", "và", "những", "mọi"}


def _tokens(text: str) -> list[str]:
    from underthesea import word_tokenize

    return [t for t in word_tokenize(text) if t.strip()]


# After a generic head (`Các`, `Thủ trưởng các`), a unit noun must follow: `Các phòng, ban`
# is a unit, `Các nhiệm vụ trọng tâm` is not.
GENERIC_HEADS = ("các", "thủ trưởng", "lãnh đạo", "người đứng đầu", "đơn vị", "cơ quan")
UNIT_NOUNS = ("phòng", "ban", "sở", "cơ quan", "đơn vị", "xã", "phường", "thôn", "ấp", "trường", "ngành", "huyện",
              "ubnd", "thành viên", "tổ chức", "địa phương", "hội", "đoàn thể", "bộ", "cục", "chi cục", "trung tâm",
              "doanh nghiệp", "tổ", "đội", "thị trấn", "quận", "tỉnh", "thành phố", "các", "được", "có", "liên quan",
              "thuộc", "trực thuộc", "chủ", "cá nhân")


def starts_with_unit(text: str) -> bool:
    lower = re.sub(r"\s+", " ", text.lower()).strip()
    if lower.startswith(NOT_UNIT_OPENINGS):
        return False
    head = next((h for h in UNIT_HEADS if lower.startswith(h + " ") or lower.startswith(h + ",")), None)
    if head is None:
        return False
    if head == "báo":  # a newspaper is named (`Báo Lâm Đồng`, `Báo và Phát thanh, ...`); `Báo đảm` is OCR of `Bảo đảm`
        return bool(re.match(r"^\s*Báo\s+(?:và\b|[A-ZĐ])", text))
    if head in GENERIC_HEADS:
        rest = lower[len(head):].lstrip(" ,")
        return rest.startswith(UNIT_NOUNS)
    return True


def unit_before_duty(text: str) -> str | None:
    """The unit name at the start of `text`, up to its first duty verb; None if no unit opens it."""
    text = text.strip()
    if not starts_with_unit(text):
        return None
    words = _tokens(text[:300])
    # The first duty verb after the head, unless it is a noun inside a list of units (`các cơ quan, đơn vị`).
    # A capitalised verb is part of a name (`Ban Quản lý`, `Cục Kiểm tra văn bản`) unless punctuation opens it.
    end = next((i for i, word in enumerate(words)
                if i > 0 and word.lower() in DUTY_VERB_SET
                and (not word[:1].isupper() or words[i - 1] in (":", ";", "-", "–"))
                and not (word.lower() in LIST_NOUNS and words[i - 1].lower() in LIST_JOINERS)), None)
    if end is None or end > MAX_UNIT_TOKENS:
        return None
    span = " ".join(words[:end])
    span = re.sub(r"\s+([,;.)])", r"\1", span)
    span = re.sub(r"\(\s+", "(", span).replace(" - ", " - ")
    span = TRAILING_WORDS.sub("", span.strip(" ,;:(")).strip(" ,;:(")
    if span.count("(") != span.count(")"):
        return None
    return span or None
