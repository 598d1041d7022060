"""A small, safe expression language for show-if conditions and referral rules.

Expressions are written in a subset of Python syntax, parsed with :mod:`ast` and compiled
into plain closures; nothing is ever passed to ``eval``. What is allowed:

* question ids and context names (``setting``, ``age``) as variables;
* string, number, boolean and list literals;
* ``and``, ``or``, ``not``; comparisons ``== != < <= > >= in not in``;
* the functions in ``FUNCTIONS``: ``answered(Q)``, ``any_of(Q, 'a', 'b')``,
  ``count_true(cond, ...)``.

An unanswered question is ``None``, and any comparison involving ``None`` is false, so a
rule never fires on a question that was not asked (a home-only item at a clinic visit, say).
The operands of ``and``/``or``/``not`` must be conditions (a comparison or a call), not a
bare question id, because "is F1 truthy?" has no clear meaning for a yes/no answer.
"""

from __future__ import annotations

import ast
import itertools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Values = Mapping[str, Any]
Evaluator = Callable[[Values], Any]


class ExpressionError(ValueError):
    """An expression that cannot be parsed or uses something not allowed."""


@dataclass(frozen=True)
class Literal:
    """A string literal compared with a question, kept so option values can be checked."""

    question: str
    value: str


@dataclass(frozen=True)
class Expression:
    source: str
    names: frozenset[str]
    literals: tuple[Literal, ...]
    _run: Evaluator

    def __call__(self, values: Values) -> Any:
        return self._run(values)


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def run(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        try:
            return bool(op(left, right))
        except TypeError:
            return False

    return run


def _contains(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(right, str):
        # An answer is one whole option value: 'no' in F1 must not match 'not_sure'.
        right = (right,)
    if isinstance(right, list | tuple | set | frozenset):
        if isinstance(left, list):
            return any(item in right for item in left)
        return left in right
    return False


COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: _compare(operator.eq),
    ast.NotEq: _compare(operator.ne),
    ast.Lt: _compare(operator.lt),
    ast.LtE: _compare(operator.le),
    ast.Gt: _compare(operator.gt),
    ast.GtE: _compare(operator.ge),
    ast.In: _contains,
    ast.NotIn: lambda left, right: (
        left is not None and right is not None and not _contains(left, right)
    ),
}


def _answered(value: Any) -> bool:
    return value not in (None, "", [])


def _any_of(value: Any, *options: Any) -> bool:
    if value is None:
        return False
    chosen = value if isinstance(value, list) else [value]
    return any(option in chosen for option in options)


def _count_true(*conditions: Any) -> int:
    return sum(1 for condition in conditions if condition is True)


FUNCTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    # name: (implementation, signature kind)
    "answered": (_answered, "question"),
    "any_of": (_any_of, "question+literals"),
    "count_true": (_count_true, "conditions"),
}

_CONDITION_NODES = (ast.Compare, ast.Call, ast.BoolOp, ast.UnaryOp)


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.names: set[str] = set()
        self.literals: list[Literal] = []

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"{message} in {self.source!r}")

    def condition(self, node: ast.expr) -> Evaluator:
        if not isinstance(node, _CONDITION_NODES) or (
            isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not)
        ):
            raise self.fail("expected a condition (a comparison or a function call)")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "count_true":
            # A number, never True: as a condition it would silently never hold.
            raise self.fail("count_true() gives a number; compare it, as in count_true(...) >= 2")
        return self.node(node)

    def node(self, node: ast.expr) -> Evaluator:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(value) for value in node.values]
            if isinstance(node.op, ast.And):
                return lambda values: all(part(values) is True for part in parts)
            return lambda values: any(part(values) is True for part in parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.condition(node.operand)
            return lambda values: inner(values) is not True
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if isinstance(node.operand, ast.Constant) and isinstance(
                node.operand.value, int | float
            ):
                number = -node.operand.value
                return lambda values: number
            raise self.fail("'-' is only allowed before a number")
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name):
            name = node.id
            self.names.add(name)
            return lambda values: values.get(name)
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, str | int | float | bool) and node.value is not None:
                raise self.fail(f"literal {node.value!r} is not allowed")
            constant = node.value
            return lambda values: constant
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.constant(item) for item in node.elts]
            frozen = tuple(items)
            return lambda values: frozen
        raise self.fail(f"{type(node).__name__} is not allowed")

    def constant(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
            return node.value
        raise self.fail("lists may hold only string or number literals")

    def note_literals(self, question: ast.expr, other: ast.expr) -> None:
        if not isinstance(question, ast.Name):
            return
        candidates = other.elts if isinstance(other, ast.List | ast.Tuple) else [other]
        for candidate in candidates:
            if isinstance(candidate, ast.Constant) and isinstance(candidate.value, str):
                self.literals.append(Literal(question.id, candidate.value))

    def compare(self, node: ast.Compare) -> Evaluator:
        operands = [node.left, *node.comparators]
        for left, right in itertools.pairwise(operands):
            self.note_literals(left, right)
            self.note_literals(right, left)
        evaluators = [self.node(operand) for operand in operands]
        steps = []
        for index, op in enumerate(node.ops):
            if type(op) not in COMPARISONS:
                raise self.fail(f"operator {type(op).__name__} is not allowed")
            steps.append((COMPARISONS[type(op)], evaluators[index], evaluators[index + 1]))

        def run(values: Values) -> bool:
            return all(fn(left(values), right(values)) for fn, left, right in steps)

        return run

    def call(self, node: ast.Call) -> Evaluator:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(f"unknown function; allowed: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise self.fail("functions take no keyword arguments")
        function, kind = FUNCTIONS[node.func.id]
        args = node.args
        if kind in ("question", "question+literals"):
            if not args or not isinstance(args[0], ast.Name):
                raise self.fail(f"{node.func.id}() takes a question id first")
            if kind == "question" and len(args) != 1:
                raise self.fail(f"{node.func.id}() takes exactly one question id")
            if kind == "question+literals":
                if len(args) < 2:
                    raise self.fail(f"{node.func.id}() needs at least one value to look for")
                for literal in args[1:]:
                    self.constant(literal)
                    self.note_literals(args[0], literal)
            evaluators = [self.node(arg) for arg in args]
        else:
            if not args:
                raise self.fail(f"{node.func.id}() needs at least one condition")
            evaluators = [self.condition(arg) for arg in args]
        return lambda values: function(*(evaluate(values) for evaluate in evaluators))


def compile_expression(source: str) -> Expression:
    """Parse and compile ``source``; raise :class:`ExpressionError` if it is not allowed."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("an expression must be a non-empty string")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"cannot parse {source!r}: {error.msg}") from None
    compiler = _Compiler(source.strip())
    run = compiler.condition(tree.body)
    return Expression(
        source=compiler.source,
        names=frozenset(compiler.names),
        literals=tuple(compiler.literals),
        _run=run,
    )
