"""Count the engine's lines: code lines (not blank, not a comment, not a docstring) and
physical lines, per module and in total.

    python -m benchmarks.linecount            # the table, then the budget check
    python -m benchmarks.linecount --check    # exit status 1 when over budget

The engine is ``minimr/`` without ``executors/spark.py`` (real PySpark does that work),
without the report/rendering package ``minimr/report/``, without the
PySpark-compatibility layer ``minimr/compat/`` and ``minimr/submit.py`` (glue that maps
PySpark's names onto the engine, and the command that runs PySpark programs with it) and
without the fault-injection tooling ``minimr/faults.py`` (for tests and learners; the
engine's side of it, ``task.at`` and ``Env.faults``, is counted). Those are counted too,
and printed below the engine, but not in its budget.
"""

import argparse
import ast
import io
import os
import sys
import tokenize

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minimr")
BUDGET = 2400 + 300 + 250 + 200  # engine code lines: the core, PySpark's wider API
                                 # (SparkConf, checkpoints, pipe, approximate actions, ...),
                                 # surviving faults, events and their counters
MODULE_LIMIT = 450       # physical lines of any engine module
OUTSIDE = ("executors/spark.py", "report/", "compat/", "submit.py", "faults.py")


def code_lines(source: str) -> int:
    """Lines holding a token of code: blank lines, comments and docstrings don't count
    (a docstring: a string literal that is a statement of its own)."""
    docstring_lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            docstring_lines.update(range(node.lineno, node.end_lineno + 1))
    lines = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in skip:
            continue
        for n in range(tok.start[0], tok.end[0] + 1):
            if n not in docstring_lines:
                lines.add(n)
    return len(lines)


def modules(root=ROOT):
    """(relative path, code lines, physical lines) of every .py file under `root`."""
    out = []
    for d, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(d, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                out.append((rel, code_lines(text), text.count("\n")))
    return sorted(out)


def in_engine(rel):
    return not any(rel == o or rel.startswith(o) for o in OUTSIDE)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.linecount", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 when the engine is over budget")
    args = p.parse_args(argv)
    rows = modules()
    engine = [r for r in rows if in_engine(r[0])]
    other = [r for r in rows if not in_engine(r[0])]
    print(f"{'module':32s} {'code':>6s} {'lines':>6s}")
    for rel, code, phys in engine:
        flag = "  over the module limit" if phys > MODULE_LIMIT else ""
        print(f"minimr/{rel:25s} {code:6d} {phys:6d}{flag}")
    total = sum(r[1] for r in engine)
    print(f"{'engine total':32s} {total:6d} {sum(r[2] for r in engine):6d}   "
          f"(budget {BUDGET} code lines, {MODULE_LIMIT} lines a module)")
    if other:
        print("outside the engine:")
        for rel, code, phys in other:
            print(f"minimr/{rel:25s} {code:6d} {phys:6d}")
    over = total > BUDGET or any(r[2] > MODULE_LIMIT for r in engine)
    if args.check and over:
        print("over budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
