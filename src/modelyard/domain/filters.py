"""Search filters and order-by clauses: a small typed query language over runs.

Grammar (keywords are case-insensitive; ``and`` binds tighter than ``or``)::

    filter     := and_expr ("or" and_expr)*
    and_expr   := term ("and" term)*
    term       := "(" filter ")" | comparison
    comparison := field op literal
                | field ["not"] "in" "(" literal ("," literal)* ")"
                | field ["not"] "like" string
    field      := ("metrics" | "metric") "." key
                | ("params" | "param") "." key
                | ("tags" | "tag") "." key
                | ("attributes" | "attribute" | "attr") "." attribute
                | attribute
    attribute  := status | name | start_time | end_time | run_id | id | user | parent_id
    key        := letters, digits and _ - . : /    or    `any characters but a backtick`
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    literal    := number | string
    number     := [+-] digits [. digits] [e [+-] digits]       e.g. 8, -0.5, 1e-3, .25
    string     := '...' | "..."     (\\' \\" \\\\ are escapes; other backslashes are kept,
                                     so like patterns can escape % and _ as \\% and \\_)

Examples::

    metrics.auc > 0.8 and params.optimizer = 'adam'
    tags.team in ('vision', 'nlp') or status = 'failed'
    (metrics.`val loss` < 0.3 or metric.acc >= 0.9) and start_time > 1700000000000
    name like 'baseline-%' and params.lr != '0.1'

Values are type-checked while parsing, with a suggested fix: metrics, ``start_time`` and
``end_time`` (milliseconds since the epoch) compare to numbers; params, tags, ``status``,
``name``, ``run_id``, ``parent_id`` and ``user`` compare to quoted strings. ``status`` must be
one of the run statuses (any case). Errors are :class:`~modelyard.errors.FilterSyntaxError`
carrying the 0-based character position in the original text.

Order-by clauses are ``field [asc|desc]`` (ascending by default), several separated by commas
or given as a sequence: ``["metrics.auc desc", "params.lr"]``.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from modelyard.domain.records import RunStatus
from modelyard.errors import FilterSyntaxError


class FieldKind(enum.Enum):
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"


class Op(enum.Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "like"
    NOT_LIKE = "not like"
    IN = "in"
    NOT_IN = "not in"


_KEY_RE = re.compile(r"[\w\-.:/]+")


@dataclass(frozen=True, slots=True)
class Field:
    """``metrics.auc`` is ``Field(METRIC, "auc")``; attributes use their canonical name."""

    kind: FieldKind
    key: str

    def __str__(self) -> str:
        key = self.key if _KEY_RE.fullmatch(self.key) else f"`{self.key}`"
        return key if self.kind is FieldKind.ATTRIBUTE else f"{self.kind.value}.{key}"


Value: TypeAlias = str | float | tuple[str | float, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    field: Field
    op: Op
    value: Value  # a tuple for IN / NOT_IN


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Expr, ...]


Expr: TypeAlias = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class OrderBy:
    field: Field
    descending: bool = False


_PREFIXES = {
    **dict.fromkeys(("metrics", "metric"), FieldKind.METRIC),
    **dict.fromkeys(("params", "param"), FieldKind.PARAM),
    **dict.fromkeys(("tags", "tag"), FieldKind.TAG),
    **dict.fromkeys(("attributes", "attribute", "attr"), FieldKind.ATTRIBUTE),
}
_EXAMPLE_KEYS = dict(zip(FieldKind, ("auc", "lr", "team", "status"), strict=True))
_ATTRIBUTES = {
    a: a for a in ("status", "name", "start_time", "end_time", "run_id", "user", "parent_id")
}
_ATTRIBUTES["id"] = "run_id"
_TIME_ATTRIBUTES = frozenset({"start_time", "end_time"})
_STATUS_OPS = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN})
_STATUSES = tuple(s.value for s in RunStatus)
_KEYWORDS = frozenset({"and", "or", "not", "in", "like"})
_OPERATORS = {"==": Op.EQ, "!=": Op.NE, "<>": Op.NE, "<=": Op.LE, ">=": Op.GE}
_OPERATORS |= {"=": Op.EQ, "<": Op.LT, ">": Op.GT}
_STATUS = Field(FieldKind.ATTRIBUTE, "status")
_FIELD_HINT = "a field such as metrics.auc, params.lr, tags.team or status"


def parse_filter(text: str | None) -> Expr | None:
    """Parse a filter into a tree of Comparison / And / Or; ``None`` for an empty filter."""
    if text is None or not text.strip():
        return None
    parser = _Parser(text)
    expr = parser.or_expr()
    if (tok := parser.peek()).kind == ")":
        raise parser.error("unexpected ')' without a matching '('", tok)
    if tok.kind != "end":
        raise parser.error(f"expected 'and', 'or' or end of filter, found {parser.show(tok)}", tok)
    return expr


def parse_order_by(clauses: Sequence[str] | str | None) -> tuple[OrderBy, ...]:
    """Parse ``"metrics.auc desc, params.lr"`` (or a list of such strings) into OrderBy."""
    if clauses is None:
        return ()
    if isinstance(clauses, str):
        clauses = [clauses] if clauses.strip() else []
    result: list[OrderBy] = []
    for clause in clauses:
        result.extend(_Parser(clause, "order-by clause").order_by_list())
    return tuple(result)


# --- lexer ---------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""(?P<space>\s+)
    | (?P<punct>[(),])
    | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
    | (?P<op>==|!=|<>|<=|>=|=|<|>)
    | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![\w.]))
    | (?P<word>[^\W\d][\w\-.:/]*(?:(?<=\.)`[^`]+`)?)""",
    re.VERBOSE | re.DOTALL,
)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class _Token(NamedTuple):
    kind: str  # a group name of _TOKEN_RE (punctuation is its own kind), or "end"
    text: str  # exactly as written
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        m = _TOKEN_RE.match(text, i)
        if m is None:
            raise FilterSyntaxError(_lex_error(text, i), text=text, position=i)
        kind = m.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(m.group() if kind == "punct" else kind, m.group(), i))
        i = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _lex_error(text: str, i: int) -> str:
    c = text[i]
    if c in "'\"":
        return f"unterminated string; close it with a matching {c}"
    if c == "`":
        close = text.find("`", i + 1)
        if close < 0:
            return "unterminated backtick-quoted key; close it with `"
        if close == i + 1:
            return "empty key between backticks"
        return "unexpected '`'; backticks quote a key after a prefix, e.g. metrics.`val loss`"
    if bad := re.match(r"[+-]?[\w.]+", text[i:]):
        return f"invalid number {bad.group()!r}"
    return f"unexpected character {c!r}"


def _unquote(tok: _Token) -> str:
    quote = tok.text[0]
    return re.sub(rf"\\([\\{quote}])", r"\1", tok.text[1:-1])


def _closest(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _is_keyword(tok: _Token, *words: str) -> bool:
    return tok.kind == "word" and tok.text.lower() in (words or _KEYWORDS)


# --- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, what: str = "filter") -> None:
        self.text = text
        self.what = what
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def show(self, tok: _Token) -> str:
        return f"end of {self.what}" if tok.kind == "end" else repr(tok.text)

    def error(self, reason: str, at: _Token | int) -> FilterSyntaxError:
        position = at if isinstance(at, int) else at.pos
        return FilterSyntaxError(reason, text=self.text, position=position)

    def or_expr(self) -> Expr:
        terms = [self.and_expr()]
        while _is_keyword(self.peek(), "or"):
            self.advance()
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def and_expr(self) -> Expr:
        terms = [self.term()]
        while _is_keyword(self.peek(), "and"):
            self.advance()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def term(self) -> Expr:
        if (tok := self.peek()).kind != "(":
            return self.comparison()
        self.advance()
        if self.peek().kind == ")":
            raise self.error("empty filter in parentheses", tok)
        expr = self.or_expr()
        if (close := self.advance()).kind != ")":
            where = f"'(' at position {tok.pos}"
            raise self.error(f"expected ')' to close {where}, found {self.show(close)}", close)
        return expr

    def field(self) -> Field:
        prev = self.tokens[self.i - 1] if self.i else None
        tok = self.advance()
        if tok.kind == "end" and prev is not None and _is_keyword(prev):
            raise self.error(f"unexpected {prev.text!r} at end of {self.what}", prev)
        if tok.kind != "word" or _is_keyword(tok):
            hint = "; negate with !=, not in or not like" if _is_keyword(tok, "not") else ""
            raise self.error(f"expected {_FIELD_HINT}, found {self.show(tok)}{hint}", tok)
        if tok.text.endswith("`"):
            tick = tok.text.index("`")
            prefix, key = tok.text[: tick - 1], tok.text[tick + 1 : -1]
        elif "." in tok.text:
            prefix, key = tok.text.split(".", 1)
        elif tok.text.lower() in _PREFIXES:
            example = f"{tok.text}.{_EXAMPLE_KEYS[_PREFIXES[tok.text.lower()]]}"
            raise self.error(f"expected '.' and a key after {tok.text!r}, e.g. {example}", tok)
        else:
            return self.attribute(tok.text, tok.pos)
        kind = _PREFIXES.get(prefix.lower())
        if kind is None:
            choices = "use metrics., params., tags. or attributes."
            hint = _closest(prefix.lower(), [kind.value for kind in FieldKind])
            raise self.error(f"unknown field prefix {prefix!r}; {choices}{hint}", tok)
        if not key:
            raise self.error(f"expected a key after '{prefix}.'", tok.pos + len(tok.text))
        if kind is FieldKind.ATTRIBUTE:
            return self.attribute(key, tok.pos + len(prefix) + 1)
        return Field(kind, key)

    def attribute(self, name: str, pos: int) -> Field:
        canonical = _ATTRIBUTES.get(name.lower())
        if canonical is None:
            valid = ", ".join(sorted(_ATTRIBUTES))
            hint = _closest(name.lower(), list(_ATTRIBUTES)) or (
                f"; for a metric, param or tag write metrics.{name}, params.{name} or tags.{name}"
            )
            raise self.error(
                f"unknown attribute {name!r}; valid attributes are: {valid}{hint}", pos
            )
        return Field(FieldKind.ATTRIBUTE, canonical)

    def comparison(self) -> Comparison:
        field = self.field()
        tok = self.advance()
        if tok.kind == "op":
            op = _OPERATORS[tok.text]
        elif _is_keyword(tok, "not"):
            if not _is_keyword(nxt := self.advance(), "in", "like"):
                raise self.error(
                    f"expected 'in' or 'like' after 'not', found {self.show(nxt)}", nxt
                )
            op = Op.NOT_IN if _is_keyword(nxt, "in") else Op.NOT_LIKE
        elif _is_keyword(tok, "in", "like"):
            op = Op(tok.text.lower())
        else:
            expected = "a comparison operator (=, !=, <, <=, >, >=, like, in)"
            raise self.error(f"expected {expected}, found {self.show(tok)}", tok)
        self.check_operator(field, op, tok)
        if op in (Op.IN, Op.NOT_IN):
            return Comparison(field, op, self.value_list(field, op))
        return Comparison(field, op, self.literal(field, op, self.advance()))

    def check_operator(self, field: Field, op: Op, tok: _Token) -> None:
        if op in (Op.LIKE, Op.NOT_LIKE) and _is_numeric(field):
            what = "metric values are numbers" if field.kind is FieldKind.METRIC else ""
            what = what or f"{field.key} is a number"
            fix = "compare with =, !=, <, <=, > or >="
            raise self.error(f"{what}; {op.value} only applies to text; {fix}", tok)
        if field == _STATUS and op not in _STATUS_OPS:
            valid = f"valid statuses are: {', '.join(_STATUSES)}"
            raise self.error(f"status supports =, !=, in and not in, not {op.value}; {valid}", tok)

    def value_list(self, field: Field, op: Op) -> tuple[str | float, ...]:
        if (open_tok := self.advance()).kind != "(":
            values = "0.1, 0.2" if _is_numeric(field) else "'a', 'b'"
            example = f"e.g. {field} {op.value} ({values})"
            raise self.error(
                f"expected '(' after '{op.value}' to start a list of values, {example}, "
                f"found {self.show(open_tok)}",
                open_tok,
            )
        if self.peek().kind == ")":
            raise self.error(f"empty list after '{op.value}'; give at least one value", open_tok)
        values = [self.literal(field, op, self.advance(), in_list=True)]
        while self.peek().kind == ",":
            self.advance()
            values.append(self.literal(field, op, self.advance(), in_list=True))
        if (close := self.advance()).kind != ")":
            where = f"'(' at position {open_tok.pos}"
            raise self.error(
                f"expected ',' or ')' to close {where}, found {self.show(close)}", close
            )
        return tuple(values)

    def literal(self, field: Field, op: Op, tok: _Token, *, in_list: bool = False) -> str | float:
        numeric = _is_numeric(field)
        if tok.kind == "number" and op in (Op.LIKE, Op.NOT_LIKE):
            raise self.error(f"like needs a quoted pattern: {field} {op.value} '{tok.text}'", tok)
        if tok.kind == "number" and not numeric:
            what = (
                f"{field.key} is"
                if field.kind is FieldKind.ATTRIBUTE
                else f"{field.kind.value} are"
            )
            fix = f"'{tok.text}'" if in_list else f"{field} {op.value} '{tok.text}'"
            raise self.error(f"{what} text; quote the value: {fix}", tok)
        if tok.kind == "number":
            value = float(tok.text)
            if field.key in _TIME_ATTRIBUTES and not value.is_integer():
                fix = f"write an integer such as {int(value)}"
                raise self.error(f"{field.key} is whole milliseconds since the epoch; {fix}", tok)
            return value
        if tok.kind == "string" and numeric:
            raise self.error(_number_fix(field, op, _unquote(tok), in_list), tok)
        if tok.kind == "string" and field == _STATUS:
            status = _unquote(tok).upper()
            if status not in _STATUSES:
                valid = f"valid statuses are: {', '.join(_STATUSES)}{_closest(status, _STATUSES)}"
                raise self.error(f"unknown status {_unquote(tok)!r}; {valid}", tok)
            return status
        if tok.kind == "string":
            return _unquote(tok)
        after = "in the list" if in_list else f"after '{op.value}'"
        hint = f"; quote text values: '{tok.text}'" if tok.kind == "word" and not numeric else ""
        expected = "a value (a number or a quoted string)"
        raise self.error(f"expected {expected} {after}, found {self.show(tok)}{hint}", tok)

    def order_by_list(self) -> list[OrderBy]:
        result: list[OrderBy] = []
        while True:
            if (tok := self.peek()).kind == "end":
                what = "unexpected ',' at end of" if result else "empty"
                at = self.tokens[self.i - 1] if result else tok
                raise self.error(f"{what} order-by clause; write FIELD [asc|desc]", at)
            if _is_keyword(tok, "asc", "desc"):
                raise self.error(f"expected a field before {tok.text!r}", tok)
            field = self.field()
            descending = False
            if _is_keyword(direction := self.peek(), "asc", "desc"):
                descending = self.advance().text.lower() == "desc"
            elif direction.kind == "word":
                raise self.error(
                    f"unknown sort direction {direction.text!r}; use asc or desc", direction
                )
            result.append(OrderBy(field, descending))
            if (tok := self.advance()).kind == "end":
                return result
            if tok.kind != ",":
                raise self.error(
                    f"expected ',' or end of order-by clause, found {self.show(tok)}", tok
                )


def _is_numeric(field: Field) -> bool:
    return field.kind is FieldKind.METRIC or (
        field.kind is FieldKind.ATTRIBUTE and field.key in _TIME_ATTRIBUTES
    )


def _number_fix(field: Field, op: Op, text: str, in_list: bool) -> str:
    example = text.strip() if _NUMBER_RE.fullmatch(text.strip()) else None
    if field.kind is FieldKind.METRIC:
        what, example = "metric values are numbers", example or "0.5"
    else:
        what = f"{field.key} is a number (milliseconds since the epoch)"
        example = example or "1700000000000"
    fix = f"{example} without quotes" if in_list else f"{field} {op.value} {example}"
    return f"{what}; write {fix}"
