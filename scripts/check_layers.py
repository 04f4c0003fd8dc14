#!/usr/bin/env python3
"""Checks that every module under src/ includes only the headers of the modules its row of
docs/ARCHITECTURE.md's module table allows: the modules listed in its "depends on" column
(and what they depend on, transitively), each of which must stand above it in the table.
Prints one line per violation and exits 1 when there is any."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
arch = os.path.join(root, "docs", "ARCHITECTURE.md")
rows = []  # (module, deps text)
in_table = False
for line in open(arch, encoding="utf-8"):
    if line.startswith("| module |"):
        in_table = True
        continue
    if in_table:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set(cells[0]) <= set("-"):
            continue
        rows.append((cells[0], cells[2]))
order = [m for m, _ in rows]
pos = {m: i for i, m in enumerate(order)}
problems = []
deps = {}
for m, text in rows:
    words = re.findall(r"[a-z]+", text.split("(")[0])
    if "everything" in words or "every" in words:
        deps[m] = set(order[: pos[m]])
        continue
    listed = {w for w in words if w in pos}
    for d in listed:
        if pos[d] >= pos[m]:
            problems.append(f"{arch}: module {m} depends on {d}, which is not above it in the table")
    deps[m] = listed


def closure(m, seen=None):
    seen = set() if seen is None else seen
    for d in deps.get(m, ()):
        if d not in seen:
            seen.add(d)
            closure(d, seen)
    return seen


src = os.path.join(root, "src")
for m in sorted(os.listdir(src)):
    if not os.path.isdir(os.path.join(src, m)):
        continue
    if m not in pos:
        problems.append(f"src/{m}: a module that docs/ARCHITECTURE.md's module table does not list")
        continue
    allowed = closure(m) | {m, "core"}
    for name in sorted(os.listdir(os.path.join(src, m))):
        if not name.endswith((".c", ".h", ".inc")):
            continue
        path = os.path.join(src, m, name)
        for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            inc = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
            if inc and inc.group(1) not in allowed:
                x = inc.group(1)
                where = "below it" if pos.get(x, -1) > pos[m] else "not in its row"
                problems.append(f"src/{m}/{name}:{n}: includes {x}/, which is {where} in "
                                f"docs/ARCHITECTURE.md's module table (allowed: {', '.join(sorted(allowed))})")
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"layers ok: {len(order)} modules, every include within its module's row")
