#!/usr/bin/python3
"""Issue 9's size rules on a source tree (default src/): files over 600 lines and functions over
80 lines (a body from a '{' in column 0 to the next '}' in column 0, the PETSc/libCEED layout).
Prints what breaks a rule and exits 1 if anything does. Repeated blocks: the `duplicates` command."""
import glob
import os
import sys

MAX_FILE, MAX_FUNC = 600, 80


def functions(lines):
    i = 0
    while i < len(lines):
        if lines[i].startswith("{") and i > 0:
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            head = lines[j].split("(")[0].split()
            k = i + 1
            while k < len(lines) and not lines[k].startswith("}"):
                k += 1
            yield j + 1, head[-1] if head else lines[j], k - i + 1
            i = k
        i += 1


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "src"
    bad = 0
    for f in sorted(glob.glob(os.path.join(root, "**", "*.[ch]"), recursive=True)):
        lines = open(f).read().split("\n")
        if len(lines) - 1 > MAX_FILE:
            print(f"{f}: {len(lines) - 1} lines (> {MAX_FILE})")
            bad += 1
        for line, name, n in functions(lines):
            if n > MAX_FUNC:
                print(f"{f}:{line}: {name}: {n} lines (> {MAX_FUNC})")
                bad += 1
    print(f"{root}: {bad} over the limits (files {MAX_FILE} lines, functions {MAX_FUNC} lines)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
