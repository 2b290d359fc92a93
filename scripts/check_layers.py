#!/usr/bin/env python3
"""Checks the floor plan: every folder includes only the folders it may use.

Each source folder is a layer (docs/architecture.md "Layers"). A file may
include headers of its own folder and of the folders listed for it below,
nothing else from the tree: a lower folder never includes a higher one, a
role never includes another role, and nothing but cli/ and bench/ (and the
tests) includes cli/ or bench/. tests/ may include anything.

Usage: check_layers.py [--graph] [ROOT]   (ROOT: the source tree, default: this one)
Exit status 0 when every include is allowed, 1 with one line per violation
(file:line: what is wrong), 2 when ROOT is not a scorepipe tree.

--graph also prints the include graph by folder, as it is (not as LAYERS
allows): one line per pair of folders, "from -> to: N includes in M files",
lowest layer first, then the folders nothing includes.
"""
import os
import re
import sys

# folder -> the folders it may use (besides itself), lowest layer first.
LAYERS = {
    "proto": [],
    "durable": ["proto"],
    "config": ["proto"],
    "runtime": ["proto", "durable", "config"],
    "queue": ["proto", "durable", "config", "runtime"],
    "scoring": ["proto", "durable", "config"],
    "training": ["proto", "durable", "config", "scoring"],
    # The prediction archive in PostgreSQL (libpq, the schema).
    "archive": ["proto", "config"],
    "local_cluster": ["proto", "durable", "config", "runtime", "queue", "scoring", "training"],
    # The roles: each on the layers it needs, never on another role.
    "bridge": ["proto", "durable", "config", "runtime", "queue"],
    "ventilator": ["proto", "durable", "config", "runtime"],
    "worker": ["proto", "durable", "config", "runtime", "scoring"],
    "sink": ["proto", "durable", "config", "runtime", "queue", "scoring"],
    "gateway": ["proto", "durable", "config", "runtime", "queue", "scoring"],
    # The top: the command and the benchmarks; nothing includes them.
    "cli": ["proto", "durable", "config", "runtime", "queue", "scoring", "training", "archive", "local_cluster"],
    "bench": ["proto", "durable", "config", "runtime", "queue", "scoring", "training", "local_cluster"],
}
ROLES = {"bridge", "ventilator", "worker", "sink", "gateway"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE = (".h", ".cc", ".hpp", ".cpp")


def violation(folder, included):
    """Why `folder` may not include the header at `included`, or None."""
    target = included.split("/", 1)[0]
    if "/" not in included or target == folder:
        return None
    if target == "tests":
        return f"{folder}/ includes the tests ({included}): production code never does"
    if target not in LAYERS:
        return None  # not a folder of the tree (a library's own layout)
    if target in LAYERS[folder]:
        return None
    if folder in ROLES and target in ROLES:
        return f"the {folder} role includes another role ({included}): share it through a layer below both"
    allowed = ", ".join(LAYERS[folder]) or "none"
    return f"{folder}/ may not include {target}/ ({included}); {folder}/ may use: {allowed}"


def includes(root):
    """(folder, path, line number, included header) of every quoted include."""
    for folder in LAYERS:
        base = os.path.join(root, folder)
        for directory, subfolders, files in os.walk(base):
            subfolders.sort()
            for name in sorted(files):
                if not name.endswith(SOURCE):
                    continue
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        match = INCLUDE.match(line)
                        if match:
                            yield folder, path, number, match.group(1)


def check(root):
    problems = []
    for folder, path, number, included in includes(root):
        why = violation(folder, included)
        if why:
            problems.append(f"{os.path.relpath(path, root)}:{number}: {why}")
    return problems


def graph(root):
    """Lines of the include graph between folders, lowest layer first."""
    edges = {}  # (from, to) -> [includes, files]
    for folder, path, _, included in includes(root):
        target = included.split("/", 1)[0]
        if "/" not in included or target == folder or target not in LAYERS:
            continue
        edge = edges.setdefault((folder, target), [0, set()])
        edge[0] += 1
        edge[1].add(path)
    order = list(LAYERS)
    lines = []
    for (source, target) in sorted(edges, key=lambda e: (order.index(e[0]), order.index(e[1]))):
        count, files = edges[(source, target)]
        lines.append(f"{source} -> {target}: {count} include{'s' * (count != 1)} "
                     f"in {len(files)} file{'s' * (len(files) != 1)}")
    included_by_some = {target for _, target in edges}
    top = [folder for folder in order if folder not in included_by_some]
    lines.append("included by no folder: " + ", ".join(top))
    return lines


def main(argv):
    args = argv[1:]
    show_graph = "--graph" in args
    args = [a for a in args if a != "--graph"]
    if any(a.startswith("-") for a in args) or len(args) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if not os.path.isdir(os.path.join(root, "proto")):
        print(f"check_layers: {root} is not a scorepipe source tree (no proto/)", file=sys.stderr)
        return 2
    if show_graph:
        for line in graph(root):
            print(line)
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the layers "
              "(docs/architecture.md \"Layers\")", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
