"""The engine stays readable: no import cycle inside minimr/, and within its size budget
(benchmarks/linecount.py prints the figures)."""

import ast
import os

import pytest

from benchmarks import linecount

pytestmark = pytest.mark.timeout(60)

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minimr")


def module_name(path):
    rel = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def import_graph():
    """module -> the minimr modules it imports, from every import statement in its
    source (imports inside functions included)."""
    modules = {}
    for d, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                modules[module_name(os.path.join(d, name))] = os.path.join(d, name)
    graph = {}
    for mod, path in modules.items():
        package = mod if path.endswith("__init__.py") else mod.rpartition(".")[0]
        edges = set()
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = (base + "." + node.module if node.module else base) if node.level else node.module
                # "from . import plan" imports a module; "from .task import Task" a name
                targets = [base + "." + a.name if base + "." + a.name in modules else base
                           for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != mod}
        graph[mod] = edges
    return graph


def find_cycle(graph):
    """A list of modules forming a cycle, or None (depth-first search)."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                cycle = visit(n)
                if cycle:
                    return cycle
        state[m] = "done"
        stack.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_minimr():
    graph = import_graph()
    assert "minimr.context" in graph and "minimr.executors.spark" in graph
    assert "minimr.rdd" in graph["minimr.context"]          # the graph sees real edges
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_engine_is_within_its_size_budget():
    rows = [r for r in linecount.modules() if linecount.in_engine(r[0])]
    total = sum(code for _, code, _ in rows)
    assert total <= linecount.BUDGET, f"engine: {total} code lines, budget {linecount.BUDGET}"
    too_long = [(rel, lines) for rel, _, lines in rows if lines > linecount.MODULE_LIMIT]
    assert not too_long, too_long


def test_code_lines_leave_out_docstrings_comments_and_blank_lines():
    source = '"""Module doc."""\n\n# a comment\ndef f(x):\n    """Doc\n    more."""\n    return (x +\n            1)  # why\n'
    assert linecount.code_lines(source) == 3
