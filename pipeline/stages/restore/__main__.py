"""`python -m pipeline.stages.restore [FILE]`: restore a file (or stdin) to stdout."""

from __future__ import annotations

import argparse
import sys

from pipeline.stages.restore import restore_text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="congvan restore", description="Restore Vietnamese diacritics (file or stdin to stdout)."
    )
    ap.add_argument("file", nargs="?", help="input text file (default: stdin)")
    ap.add_argument("--changes", action="store_true", help="list the changed spans on stderr")
    args = ap.parse_args(argv)
    if args.file and args.file != "-":
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    out, changes = restore_text(text)
    sys.stdout.write(out)
    if args.changes:
        for c in changes:
            print(f"{c.start}\t{c.end}\t{c.before}\t{c.after}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
