"""Files of a drop folder: which are letters, and moving them without losing one.

Light on purpose (standard library only): `congvan inbox` scans and files
known documents with it before anything heavy is imported.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from datetime import datetime
from pathlib import Path

from pipeline.core.errors import BadInput

# Files that are never letters: editor locks, partial downloads, OS litter.
IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
IGNORED_SUFFIXES = {".part", ".partial", ".tmp", ".crdownload", ".download", ".swp", ".error.txt"}


def is_ignored(path: Path) -> bool:
    name = path.name.lower()
    return (
        name.startswith((".", "~$", "~"))
        or name in IGNORED_NAMES
        or any(name.endswith(suffix) for suffix in IGNORED_SUFFIXES)
    )


# Most Linux file systems allow 255 bytes per name; `name (2).pdf.error.txt`
# must fit too.
NAME_MAX = 255
_ERROR_SUFFIX = ".error.txt"
# Characters that would break a log line or a terminal: C0/C1 controls
# (newline, carriage return, escape) and the bidirectional overrides.
_UNSAFE_CHARS = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]}
_UNSAFE_CHARS.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_UNSAFE_CHARS.update({c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})


def shown(path: Path | str) -> str:
    """A path as one printable line of UTF-8, for logs, messages and the database.

    A name that is not UTF-8 (unzipped from a Windows archive) comes from the
    OS as surrogate escapes, which cannot be printed or stored; its odd bytes
    are written `\\xe9`.  A newline or other control character in a name is
    escaped too, so a crafted name cannot forge a second log line.
    """
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return text.translate(_UNSAFE_CHARS)


def fit_name(name: str, room: int = 0) -> str:
    """`name` shortened (stem cut, suffix kept) so that it plus `room` bytes fits a directory entry."""
    limit = NAME_MAX - room
    encoded = os.fsencode(name)
    if len(encoded) <= limit:
        return name
    suffix = os.fsencode(Path(name).suffix)
    if len(suffix) > 16:  # not a real extension
        suffix = b""
    stem = encoded[: len(encoded) - len(suffix)] if suffix else encoded
    stem = stem[: max(1, limit - len(suffix) - 1)]
    # Cut on a character boundary, never inside a UTF-8 sequence.
    while stem and (stem[-1] & 0xC0) == 0x80:
        stem = stem[:-1]
    if stem and stem[-1] >= 0xC0:
        stem = stem[:-1]
    return os.fsdecode(stem + b"~" + suffix)


def done_folder(done_dir: Path, when: datetime | None = None) -> Path:
    """`done_dir/YYYY/MM`, by the local date the file is filed."""
    when = when or datetime.now()
    return done_dir / f"{when:%Y}" / f"{when:%m}"


def unique_destination(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/name (2)` etc. so nothing is ever overwritten."""
    folder.mkdir(parents=True, exist_ok=True)
    # Room for ` (99)` and `.error.txt`: a failed file's note needs both.
    name = fit_name(name, room=len(" (99)") + len(_ERROR_SUFFIX))
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({counter}){suffix}"
        counter += 1
    return candidate


def move_file(path: Path, folder: Path) -> Path:
    """Move `path` into `folder` under a name nothing else has; return where it went."""
    return move_file_to(path, unique_destination(folder, path.name))


def move_aside(path: Path, folder: Path, error: BadInput) -> str | None:
    """Move a failed file into `folder` with a `.error.txt` that says why.

    The reason is written first: a kill between the two steps leaves the file
    where it was (it fails again next time, and the reason is rewritten).
    Returns where the file went, or None when it could not be moved (the
    caller logs why; the failure is recorded either way).
    """
    note = None
    try:
        destination = unique_destination(folder, path.name)
        note = destination.with_name(destination.name + _ERROR_SUFFIX)
        note.write_text(f"{shown(error.path)}: {shown(error.cause)}\nstage: {error.stage}\n", encoding="utf-8")
        return str(move_file_to(path, destination))
    except OSError:
        # Read-only source: the file stays, the failure is still recorded in
        # the database, and no reason is left beside a file that is not there.
        if note is not None and not note.with_name(note.name[: -len(".error.txt")]).exists():
            note.unlink(missing_ok=True)
        return None


def move_file_to(path: Path, destination: Path) -> Path:
    """Move `path` to `destination` (a free name, see `unique_destination`).

    A rename on one file system (atomic: the file is in one place or the
    other).  Across file systems: copy to a hidden temporary name, flush,
    rename into place, and only then remove the original, so a kill leaves at
    worst a hidden partial copy and the original untouched.
    """
    try:
        os.rename(path, destination)
        return destination
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    return _copy_across(path, destination)


def _copy_across(path: Path, destination: Path) -> Path:
    partial = destination.with_name(f".{destination.name}.part")
    with path.open("rb") as source, partial.open("wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)
        target.flush()
        os.fsync(target.fileno())
    shutil.copystat(path, partial)
    os.rename(partial, destination)
    os.unlink(path)
    return destination


def sha256_of(path: Path) -> str:
    """The hash of a file's bytes: a document's identity in the database."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
