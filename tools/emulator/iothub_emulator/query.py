r"""The IoT Hub query subset: one parser for job conditions and /devices/query.

    SELECT <selection> FROM devices | devices.modules | devices.jobs
        [WHERE <condition>] [GROUP BY <path>]

Selection: ``*``, or a list of dotted paths (``properties.reported.fw AS
fw``; the name is the alias or the path's last part) and ``COUNT() [AS n]``.
With GROUP BY, the selection may only name the grouped path and COUNT().
Conditions: field paths (``tags.site``, ``properties.reported.fw.version``,
``devices.jobs.status``), literals ('text' or "text" with backslash escapes
\' \" \\ \/ \b \f \n \r \t \uXXXX, and also '' for a quote inside '...';
numbers; true, false, null), = != <> < > <= >=, [NOT] IN [v, ...],
IS_DEFINED(path), AND, OR, NOT and parentheses; a job condition of ``*``
alone matches every device. Keywords are case-insensitive. A missing field
is unequal to everything: = < > <= >= IN are false, != <> NOT IN are true.
Values of different types (strings, numbers, booleans) never compare equal
or ordered.

``parse_condition`` and ``parse_statement`` raise QuerySyntaxError naming the
1-based position of the problem; ``run`` answers a parsed statement over the
documents of its source.
"""

import json
import re
from dataclasses import dataclass

KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "true", "false", "null",
            "as", "group", "by"}
SOURCES = ("devices", "devices.modules", "devices.jobs")
_MISSING = object()

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$\-]*(?:\.[A-Za-z_$][A-Za-z0-9_$\-]*)*)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[()\[\],*])
""", re.X)


class QuerySyntaxError(ValueError):
    def __init__(self, message, position):
        super().__init__("Syntax error at position {}: {}".format(position, message))
        self.position = position


@dataclass
class Token:
    kind: str      # string number name keyword op punct end
    value: object
    pos: int       # 1-based
    text: str


_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f",
            "n": "\n", "r": "\r", "t": "\t"}


def _unescape(raw, pos):
    """The value of a string literal: backslash escapes, and '' in '...'."""
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            e = body[i + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            hexa = body[i + 2:i + 6]
            if e == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", hexa):
                out.append(chr(int(hexa, 16)))
                i += 6
                continue
            raise QuerySyntaxError("invalid escape sequence \\{}".format(e), pos + 1 + i)
        if c == "'" and raw[0] == "'":  # '' stands for one quote
            i += 1
        out.append(c)
        i += 1
    return "".join(out)


def tokenize(text):
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match:
            if text[at] in "'\"":
                raise QuerySyntaxError("unterminated string", at + 1)
            raise QuerySyntaxError("unexpected character {!r}".format(text[at]), at + 1)
        kind, raw = match.lastgroup, match.group()
        if kind == "string":
            tokens.append(Token(kind, _unescape(raw, at + 1), at + 1, raw))
        elif kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(Token(kind, value, at + 1, raw))
        elif kind == "name":
            lowered = raw.lower()
            tokens.append(Token("keyword" if lowered in KEYWORDS else "name",
                                lowered if lowered in KEYWORDS else raw, at + 1, raw))
        elif kind != "space":
            tokens.append(Token(kind, raw, at + 1, raw))
        at = match.end()
    tokens.append(Token("end", None, len(text) + 1, "end of query"))
    return tokens


# The syntax tree: tuples, evaluated by ``matches``.
#   ("and", a, b)  ("or", a, b)  ("not", a)  ("true",)
#   ("cmp", op, path, value)  ("in", path, [values], negated)  ("defined", path)

class _Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.at = 0

    @property
    def token(self):
        return self.tokens[self.at]

    def fail(self, expected):
        token = self.token
        found = token.text if token.kind == "end" else repr(token.text)
        raise QuerySyntaxError("expected {}, found {}".format(expected, found), token.pos)

    def accept(self, kind, value=None):
        token = self.token
        if token.kind == kind and (value is None or token.value == value):
            self.at += 1
            return token
        return None

    def expect(self, kind, value=None, what=None):
        return self.accept(kind, value) or self.fail(what or value or kind)

    def end(self):
        if self.token.kind != "end":
            self.fail("end of query")

    def condition(self):
        left = self.conjunction()
        while self.accept("keyword", "or"):
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self):
        left = self.negation()
        while self.accept("keyword", "and"):
            left = ("and", left, self.negation())
        return left

    def negation(self):
        if self.accept("keyword", "not"):
            return ("not", self.negation())
        if self.accept("punct", "("):
            inner = self.condition()
            self.expect("punct", ")", "')'")
            return inner
        if self.function("is_defined"):
            path = self.expect("name", what="a field name").value
            self.expect("punct", ")", "')'")
            return ("defined", path)
        return self.comparison()

    def function(self, name):
        """Consumes ``name(`` (any case) if it comes next."""
        token = self.token
        if token.kind == "name" and token.value.lower() == name and \
                self.tokens[self.at + 1].text == "(":
            self.at += 2
            return True
        return False

    def selection(self):
        """None for *, else a list of ("count", None, name) / ("path", path, name)."""
        if self.accept("punct", "*"):
            return None
        items = []
        while True:
            if self.function("count"):
                self.expect("punct", ")", "')' (COUNT takes no argument)")
                item = ["count", None, "$" + str(len(items) + 1)]
            else:
                path = self.expect("name", what="'*', a field name or COUNT()").value
                item = ["path", path, path.rsplit(".", 1)[-1]]
            if self.accept("keyword", "as"):
                item[2] = self.expect("name", what="a name after AS").value
            items.append(tuple(item))
            if not self.accept("punct", ","):
                return items

    def comparison(self):
        path = self.expect("name", what="a field name").value
        if self.accept("keyword", "not"):
            self.expect("keyword", "in", "IN")
            return ("in", path, self.value_list(), True)
        if self.accept("keyword", "in"):
            return ("in", path, self.value_list(), False)
        op = self.expect("op", what="a comparison operator").value
        return ("cmp", "!=" if op == "<>" else op, path, self.value())

    def value_list(self):
        self.expect("punct", "[", "'['")
        values = [self.value()]
        while self.accept("punct", ","):
            values.append(self.value())
        self.expect("punct", "]", "']'")
        return values

    def value(self):
        token = self.token
        if token.kind in ("string", "number"):
            self.at += 1
            return token.value
        if token.kind == "keyword" and token.value in ("true", "false", "null"):
            self.at += 1
            return {"true": True, "false": False, "null": None}[token.value]
        self.fail("a value (string, number, true, false or null)")


def parse_condition(text):
    """The syntax tree of a WHERE clause (a job's queryCondition); ``*`` alone
    means every device."""
    if text.strip() == "*":
        return ("true",)
    parser = _Parser(text)
    if parser.token.kind == "end":
        parser.fail("a condition")
    tree = parser.condition()
    parser.end()
    return tree


@dataclass
class Statement:
    source: str                 # one of SOURCES
    tree: tuple = ("true",)     # the WHERE condition
    select: list = None         # None for *, else items of _Parser.selection
    group_by: str = None

    @property
    def item_type(self):
        """x-ms-item-type, from the REST spec's enum."""
        if self.select is not None:
            return "raw"
        return "deviceJob" if self.source == "devices.jobs" else "twin"


def parse_statement(text):
    """The Statement of a SELECT."""
    parser = _Parser(text)
    parser.expect("keyword", "select", "SELECT")
    select = parser.selection()
    parser.expect("keyword", "from", "FROM")
    source = parser.expect("name", what="devices, devices.modules or devices.jobs")
    if source.value.lower() not in SOURCES:
        raise QuerySyntaxError("unknown collection {!r}, expected devices, devices.modules or "
                               "devices.jobs".format(source.text), source.pos)
    statement = Statement(source.value.lower(), select=select)
    if parser.accept("keyword", "where"):
        statement.tree = parser.condition()
    if parser.accept("keyword", "group"):
        parser.expect("keyword", "by", "BY")
        at = parser.token.pos
        statement.group_by = parser.expect("name", what="a field name").value
        for kind, path, name in select or [("path", "*", "*")]:
            if kind == "path" and path != statement.group_by:
                raise QuerySyntaxError("{} is neither grouped by nor an aggregate".format(path),
                                       at)
    elif select and any(kind == "count" for kind, _, _ in select) and \
            any(kind == "path" for kind, _, _ in select):
        raise QuerySyntaxError("COUNT() with fields needs GROUP BY", parser.token.pos)
    parser.end()
    return statement


def resolver(source, document):
    """Field lookup in a document of ``source``: ``devices.jobs.x`` (or
    ``devices.modules.x``) or plain ``x``."""
    prefix = source + "."
    def resolve(path):
        if source != "devices" and path.lower().startswith(prefix):
            path = path[len(prefix):]
        return lookup(document, path)
    return resolve


def _project(select, resolve):
    row = {}
    for _, path, name in select:
        value = resolve(path)
        if value is not _MISSING:
            row[name] = value
    return row


def run(statement, documents):
    """The result rows of a statement over the documents of its source."""
    found = [d for d in documents
             if matches(statement.tree, resolver(statement.source, d))]
    select = statement.select
    if select is None:
        return found
    counting = any(kind == "count" for kind, _, _ in select)
    if not counting:
        return [_project(select, resolver(statement.source, d)) for d in found]
    groups = {}
    for d in found:
        key = resolver(statement.source, d)(statement.group_by) if statement.group_by else None
        ordered = "" if key is _MISSING else json.dumps(key, sort_keys=True)
        groups.setdefault(ordered, [key, 0])[1] += 1
    if not statement.group_by and not groups:
        groups[""] = [None, 0]
    rows = []
    for ordered in sorted(groups):
        key, count = groups[ordered]
        row = {}
        for kind, _, name in select:
            if kind == "count":
                row[name] = count
            elif key is not _MISSING:
                row[name] = key
        rows.append(row)
    return rows


def lookup(document, path):
    """The value at a dotted path in nested dicts, or _MISSING."""
    value = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string" if isinstance(value, str) else "other"


def _equal(a, b):
    return _kind(a) == _kind(b) and _kind(a) != "other" and a == b


def _compare(op, actual, expected):
    if op == "=":
        return _equal(actual, expected)
    if op == "!=":
        return not _equal(actual, expected)
    if _kind(actual) != _kind(expected) or _kind(actual) not in ("number", "string", "bool"):
        return False
    return {"<": actual < expected, ">": actual > expected,
            "<=": actual <= expected, ">=": actual >= expected}[op]


def matches(tree, resolve):
    """Whether a document satisfies ``tree``; ``resolve(path)`` gives a field's
    value or MISSING."""
    kind = tree[0]
    if kind == "true":
        return True
    if kind == "and":
        return matches(tree[1], resolve) and matches(tree[2], resolve)
    if kind == "or":
        return matches(tree[1], resolve) or matches(tree[2], resolve)
    if kind == "not":
        return not matches(tree[1], resolve)
    if kind == "defined":
        return resolve(tree[1]) is not _MISSING
    if kind == "in":
        _, path, values, negated = tree
        actual = resolve(path)
        found = actual is not _MISSING and any(_equal(actual, v) for v in values)
        return found != negated
    _, op, path, expected = tree
    actual = resolve(path)
    if actual is _MISSING:
        return op == "!="
    return _compare(op, actual, expected)


MISSING = _MISSING


def twin_resolver(twin):
    return lambda path: lookup(twin, path)


def device_job_resolver(row):
    """Fields of a devices.jobs row: ``devices.jobs.x`` or plain ``x``."""
    return resolver("devices.jobs", row)
