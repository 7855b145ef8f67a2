"""The search filter language: what parses to which tree, and what fails with which message."""

from __future__ import annotations

import pytest

from modelyard.domain.filters import (
    And,
    Comparison,
    Field,
    FieldKind,
    Op,
    Or,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from modelyard.errors import FilterSyntaxError, InvalidInput


def metric(key: str) -> Field:
    return Field(FieldKind.METRIC, key)


def param(key: str) -> Field:
    return Field(FieldKind.PARAM, key)


def tag(key: str) -> Field:
    return Field(FieldKind.TAG, key)


def attr(key: str) -> Field:
    return Field(FieldKind.ATTRIBUTE, key)


AUC_HIGH = Comparison(metric("auc"), Op.GT, 0.8)
ADAM = Comparison(param("optimizer"), Op.EQ, "adam")
NLP = Comparison(tag("team"), Op.EQ, "nlp")

GOOD = [
    ("metrics.auc > 0.8", AUC_HIGH),
    ("metric.auc>0.8", AUC_HIGH),
    ("METRICS.auc > 0.8", AUC_HIGH),
    ("metrics.auc > 8e-1", AUC_HIGH),
    ("metrics.auc > +.8", AUC_HIGH),
    ("metrics.loss <= -1", Comparison(metric("loss"), Op.LE, -1.0)),
    ("metrics.loss >= 1E3", Comparison(metric("loss"), Op.GE, 1000.0)),
    ("metrics.loss < 2", Comparison(metric("loss"), Op.LT, 2.0)),
    ("metrics.loss == 2", Comparison(metric("loss"), Op.EQ, 2.0)),
    ("metrics.loss <> 2", Comparison(metric("loss"), Op.NE, 2.0)),
    ("metrics.loss != 2", Comparison(metric("loss"), Op.NE, 2.0)),
    ("params.optimizer = 'adam'", ADAM),
    ('param.optimizer = "adam"', ADAM),
    ("tags.team = 'nlp'", NLP),
    ("tag.team='nlp'", NLP),
    ("tags.owner/team:v1.x-y = 'a'", Comparison(tag("owner/team:v1.x-y"), Op.EQ, "a")),
    ("metrics.`val loss` < 0.3", Comparison(metric("val loss"), Op.LT, 0.3)),
    ("params.`a b(c)` = 'x'", Comparison(param("a b(c)"), Op.EQ, "x")),
    ("tags.note = 'it\\'s'", Comparison(tag("note"), Op.EQ, "it's")),
    ('tags.note = "say \\"hi\\""', Comparison(tag("note"), Op.EQ, 'say "hi"')),
    ("tags.path = 'C:\\\\tmp'", Comparison(tag("path"), Op.EQ, "C:\\tmp")),
    ("tags.note = 'a \"quoted\" word'", Comparison(tag("note"), Op.EQ, 'a "quoted" word')),
    ("name like 'run\\_%'", Comparison(attr("name"), Op.LIKE, "run\\_%")),
    ("name NOT LIKE 'tmp%'", Comparison(attr("name"), Op.NOT_LIKE, "tmp%")),
    ("tags.team in ('nlp', \"vision\")", Comparison(tag("team"), Op.IN, ("nlp", "vision"))),
    ("tags.team Not In ('nlp')", Comparison(tag("team"), Op.NOT_IN, ("nlp",))),
    ("metrics.epoch in (1, 2.5)", Comparison(metric("epoch"), Op.IN, (1.0, 2.5))),
    ("status = 'finished'", Comparison(attr("status"), Op.EQ, "FINISHED")),
    ("attributes.status != 'Running'", Comparison(attr("status"), Op.NE, "RUNNING")),
    ("status in ('failed', 'KILLED')", Comparison(attr("status"), Op.IN, ("FAILED", "KILLED"))),
    ("attr.id = 'abc'", Comparison(attr("run_id"), Op.EQ, "abc")),
    ("run_id = 'abc'", Comparison(attr("run_id"), Op.EQ, "abc")),
    ("USER = 'ada'", Comparison(attr("user"), Op.EQ, "ada")),
    ("start_time >= 1700000000000", Comparison(attr("start_time"), Op.GE, 1.7e12)),
    ("end_time < 1.7e12", Comparison(attr("end_time"), Op.LT, 1.7e12)),
    ("metrics.auc > 0.8 and params.optimizer = 'adam'", And((AUC_HIGH, ADAM))),
    (
        "metrics.auc > 0.8 AND params.optimizer = 'adam' aNd tags.team = 'nlp'",
        And((AUC_HIGH, ADAM, NLP)),
    ),
    (
        "metrics.auc > 0.8 or params.optimizer = 'adam' OR tags.team = 'nlp'",
        Or((AUC_HIGH, ADAM, NLP)),
    ),
    (
        "metrics.auc > 0.8 or params.optimizer = 'adam' and tags.team = 'nlp'",
        Or((AUC_HIGH, And((ADAM, NLP)))),
    ),
    (
        "metrics.auc > 0.8 and params.optimizer = 'adam' or tags.team = 'nlp'",
        Or((And((AUC_HIGH, ADAM)), NLP)),
    ),
    (
        "(metrics.auc > 0.8 or params.optimizer = 'adam') and tags.team = 'nlp'",
        And((Or((AUC_HIGH, ADAM)), NLP)),
    ),
    ("((metrics.auc > 0.8))", AUC_HIGH),
    ("  metrics.auc > 0.8\n", AUC_HIGH),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_good_filter_parses_to_tree(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_empty_filter_is_none(text: str | None) -> None:
    assert parse_filter(text) is None


BAD = [
    ("metrics.auc > '0.8'", "metric values are numbers; write metrics.auc > 0.8", 14),
    ("metrics.auc > 'high'", "metric values are numbers; write metrics.auc > 0.5", 14),
    ("metrics.auc in (0.8, '0.9')", "metric values are numbers; write 0.9 without quotes", 21),
    ("metrics.auc like '0.%'", "metric values are numbers; like only applies to text", 12),
    ("params.max_depth = 8", "params are text; quote the value: params.max_depth = '8'", 19),
    ("tags.team = 1", "tags are text; quote the value: tags.team = '1'", 12),
    ("params.depth in ('8', 9)", "params are text; quote the value: '9'", 22),
    ("name = 42", "name is text; quote the value: name = '42'", 7),
    ("start_time > '1700'", "start_time is a number (milliseconds since the epoch)", 13),
    ("end_time > 1.5", "end_time is whole milliseconds since the epoch", 11),
    ("start_time like '17%'", "start_time is a number; like only applies to text", 11),
    ("status = 'done'", "unknown status 'done'; valid statuses are: RUNNING, FINISHED", 9),
    ("status = 'finised'", "(did you mean 'FINISHED'?)", 9),
    ("status > 'RUNNING'", "status supports =, !=, in and not in", 7),
    (
        "stauts = 'FAILED'",
        "valid attributes are: end_time, id, name, parent_id, run_id, start_time, status",
        0,
    ),
    ("stauts = 'FAILED'", "(did you mean 'status'?)", 0),
    ("attributes.nmae = 'x'", "unknown attribute 'nmae'", 11),
    ("auc > 0.8", "for a metric, param or tag write metrics.auc", 0),
    ("metrcs.auc > 0.8", "unknown field prefix 'metrcs'; use metrics., params., tags.", 0),
    ("metrics auc > 0.8", "expected '.' and a key after 'metrics', e.g. metrics.auc", 0),
    ("metrics. > 0.8", "expected a key after 'metrics.'", 8),
    (
        "metrics.loss auc",
        "expected a comparison operator (=, !=, <, <=, >, >=, like, in), found 'auc'",
        13,
    ),
    ("metrics.loss", "expected a comparison operator", 12),
    (
        "metrics.loss >",
        "expected a value (a number or a quoted string) after '>', found end of filter",
        14,
    ),
    ("status = finished", "quote text values: 'finished'", 9),
    ("tags.team = 'nlp", "unterminated string", 12),
    ("tags.team = 'nlp\\'", "unterminated string", 12),
    ('tags.team = "nlp', "unterminated string", 12),
    ("metrics.`val loss > 1", "unterminated backtick-quoted key", 8),
    ("metrics.`` > 1", "empty key between backticks", 8),
    ("`auc` > 1", "backticks quote a key after a prefix", 0),
    ("metrics.a > 1.2.3", "invalid number '1.2.3'", 12),
    ("metrics.a > 12abc", "invalid number '12abc'", 12),
    ("metrics.a ! 1", "unexpected character '!'", 10),
    ("(metrics.a > 1", "expected ')' to close '(' at position 0, found end of filter", 14),
    ("tags.a = 'x' and (metrics.a > 1 or", "unexpected 'or' at end of filter", 32),
    ("metrics.a > 1 and", "unexpected 'and' at end of filter", 14),
    ("metrics.a > 1 AND", "unexpected 'AND' at end of filter", 14),
    ("metrics.a > 1 and ()", "empty filter in parentheses", 18),
    ("metrics.a > 1)", "unexpected ')' without a matching '('", 13),
    ("metrics.a > 1 tags.b = 'x'", "expected 'and', 'or' or end of filter, found 'tags.b'", 14),
    (
        "and metrics.a > 1",
        "expected a field such as metrics.auc, params.lr, tags.team or status",
        0,
    ),
    ("not tags.a = 'x'", "negate with !=, not in or not like", 0),
    ("tags.a not = 'x'", "expected 'in' or 'like' after 'not', found '='", 11),
    ("tags.a in 'x'", "expected '(' after 'in' to start a list of values", 10),
    ("tags.a in ()", "empty list after 'in'; give at least one value", 10),
    ("tags.a in ('x' 'y')", "expected ',' or ')' to close '(' at position 10, found \"'y'\"", 15),
    (
        "tags.a in ('x',)",
        "expected a value (a number or a quoted string) in the list, found ')'",
        15,
    ),
    ("tags.a like 5", "like needs a quoted pattern: tags.a like '5'", 12),
]


@pytest.mark.parametrize(("text", "message", "position"), BAD)
def test_bad_filter_names_problem_and_position(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert message in caught.value.reason
    assert caught.value.position == position
    assert caught.value.text == text


def test_filter_error_is_invalid_input_with_a_caret() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter("params.depth = 8")
    assert str(caught.value).endswith("at position 15\n  params.depth = 8\n                 ^")


def test_keywords_are_not_field_names_but_keys_may_be_keywords() -> None:
    assert parse_filter("metrics.and > 1 and tags.or = 'x'") == And(
        (Comparison(metric("and"), Op.GT, 1.0), Comparison(tag("or"), Op.EQ, "x"))
    )


@pytest.mark.parametrize(
    ("field", "written"),
    [
        (metric("auc"), "metrics.auc"),
        (param("val loss"), "params.`val loss`"),
        (tag("a/b:c.d-e"), "tags.a/b:c.d-e"),
        (attr("run_id"), "run_id"),
    ],
)
def test_field_prints_as_the_parser_reads_it(field: Field, written: str) -> None:
    assert str(field) == written
    value = "1" if field.kind is FieldKind.METRIC else "'1'"
    parsed = parse_filter(f"{field} = {value}")
    assert isinstance(parsed, Comparison)
    assert parsed.field == field


GOOD_ORDER = [
    (None, ()),
    ("", ()),
    ([], ()),
    ("metrics.auc", (OrderBy(metric("auc"), descending=False),)),
    ("metrics.auc DESC", (OrderBy(metric("auc"), descending=True),)),
    (
        "metrics.auc desc, params.lr asc",
        (OrderBy(metric("auc"), True), OrderBy(param("lr"), False)),
    ),
    (
        ["tags.`the team` desc", "id"],
        (OrderBy(tag("the team"), True), OrderBy(attr("run_id"), False)),
    ),
    (
        ["start_time Asc", "attr.end_time desc"],
        (OrderBy(attr("start_time"), False), OrderBy(attr("end_time"), True)),
    ),
]


@pytest.mark.parametrize(("clauses", "expected"), GOOD_ORDER)
def test_order_by_parses_fields_and_directions(clauses: object, expected: object) -> None:
    assert parse_order_by(clauses) == expected  # type: ignore[arg-type]


BAD_ORDER = [
    ("metrics.auc descending", "unknown sort direction 'descending'; use asc or desc", 12),
    ("metrics.auc desc extra", "expected ',' or end of order-by clause, found 'extra'", 17),
    ("metrics.auc > 1", "expected ',' or end of order-by clause, found '>'", 12),
    ("metrics.auc,", "unexpected ',' at end of order-by clause", 11),
    ("desc", "expected a field before 'desc'", 0),
    ("stat desc", "(did you mean 'status'?)", 0),
    ("metrics", "expected '.' and a key after 'metrics'", 0),
    ("   ", "empty order-by clause", 3),
]


@pytest.mark.parametrize(("clause", "message", "position"), BAD_ORDER)
def test_bad_order_by_names_problem_and_position(clause: str, message: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_order_by([clause])
    assert message in caught.value.reason
    assert caught.value.position == position
