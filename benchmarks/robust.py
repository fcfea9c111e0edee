"""`make bench-robust`: one `congvan inbox` pass over the hostile inbox.

Builds benchmarks/hostile_inbox.py's folder in a temporary directory, runs
`congvan inbox` on it as cron would (a real process), and prints: stored and
failed counts, the exit code, whether a traceback reached the terminal, the
peak memory of the run (the whole process tree: the sum of the RSS of the
main process and its OCR workers, sampled every 50 ms, and the largest single
process from getrusage), and whether each file ended where it should.

Run as root, congvan's process drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
(setpriv), so a file of mode 000 is unreadable to it as it is to a cron user.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.hostile_inbox import build

ROOT = Path(__file__).resolve().parents[1]
CONGVAN = ROOT / ".venv" / "bin" / "congvan"
LIMIT_BYTES = 4 * 2**30


def _tree_rss(pid: int) -> int:
    """Sum of the resident memory of `pid` and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def _drop_root_reading() -> list[str]:
    """The setpriv prefix that makes root obey file modes, when we are root and setpriv exists."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return []
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="build the inbox here and keep it (default: a temporary folder)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="congvan-robust-"))
    if work.exists() and args.keep:
        shutil.rmtree(work)
    inbox = work / "inbox"
    prefix = _drop_root_reading()
    expected = build(inbox, unreadable=bool(prefix) or os.geteuid() != 0)
    command = [*prefix, str(CONGVAN), "inbox", str(inbox), "--db", str(work / "congvan.db"),
               "--settle", "0", "--jobs", str(args.jobs)]
    began = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.05)
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - began
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    terminal = stdout.decode("utf-8", "replace") + stderr.decode("utf-8", "replace")

    stored = sorted(os.listdir(work / "done" / time.strftime("%Y") / time.strftime("%m"))) \
        if (work / "done").exists() else []
    failed = sorted(n for n in os.listdir(work / "failed") if not n.endswith(".error.txt")) \
        if (work / "failed").exists() else []
    wrong = []
    for item in expected:
        name = os.fsdecode(item.name)
        here = os.path.lexists(os.path.join(os.fsencode(inbox), item.name))
        if item.outcome == "left" and not here:
            wrong.append(f"{name!r} ({item.why}) was moved")
        if item.outcome != "left" and here:
            wrong.append(f"{name!r} ({item.why}) is still in the inbox")
    bad_notes = [n for n in failed if not (work / "failed" / (n + ".error.txt")).exists()]

    count = {kind: sum(e.outcome == kind for e in expected) for kind in ("stored", "failed", "left")}
    print(f"hostile inbox: {len(expected)} entries ({count['stored']} good letters, "
          f"{count['failed']} bad files, {count['left']} links)")
    print(f"command: {' '.join(command)}")
    print(f"exit code: {process.returncode} (want 1)")
    print(f"stored: {len(stored)} (want 2); failed: {len(failed)} "
          f"(want {sum(e.outcome == 'failed' for e in expected)}), each with its .error.txt: {not bad_notes}")
    print(f"traceback on the terminal: {'yes' if 'Traceback (most recent call last)' in terminal else 'no'}")
    print(f"peak memory: {peak / 2**20:.0f} MiB for the process tree (sum of RSS, sampled), "
          f"{largest / 2**20:.0f} MiB for the largest process (getrusage); limit {LIMIT_BYTES / 2**30:.0f} GiB")
    print(f"wall time: {seconds:.1f} s")
    for line in wrong:
        print(f"WRONG: {line}")
    summary = [line for line in terminal.splitlines() if "congvan inbox" in line and "files:" in line]
    if summary:
        print(f"summary line: {summary[-1]}")
    ok = (process.returncode == 1 and len(stored) == 2 and not wrong and not bad_notes
          and "Traceback" not in terminal and peak < LIMIT_BYTES)
    print("result: PASS" if ok else "result: FAIL")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
