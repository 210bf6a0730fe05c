"""The SiriDB query grammar (the part the development server needs) with actions.

The order of alternatives follows SiriDB's grammar because syntax errors list the
alternatives tried, in that order.  Statements the server does not implement are
still recognised by their keyword so that errors at the start of a query read the same.
"""

from __future__ import annotations

from typing import Any

from . import statements as st
from .expression import Expression
from .parsing import (
    Choice,
    Element,
    Gated,
    Keyword,
    List,
    Optional,
    Ref,
    Regex,
    Sequence,
    Token,
    Tokens,
)

K = Keyword


def _unquote(text: str) -> bytes:
    quote = text[0]
    # The query arrives decoded as latin-1, so this gives back the raw name bytes.
    return text[1:-1].replace(quote * 2, quote).encode('latin-1')


r_float = Regex(r'[-+]?[0-9]*\.?[0-9]+', 'float', action=float)
r_integer = Regex(r'[-+]?[0-9]+', 'integer', action=int)
r_uinteger = Regex(r'[0-9]+', 'integer', action=int)
r_time_str = Regex(r'[0-9]+[smhdw]', 'date/time_string',
                   action=lambda t: ('dur', int(t[:-1]), t[-1]))
r_singleq_str = Regex(r"(?:'(?:[^']*)')+", 'single_quote_str', action=_unquote)
r_doubleq_str = Regex(r'(?:"(?:[^"]*)")+', 'double_quote_str', action=_unquote)
r_grave_str = Regex(r'(?:`(?:[^`]*)`)+', '', action=_unquote)
r_regex = Regex(r'(/[^/\\]*(?:\\.[^/\\]*)*/i?)', '')
r_comment = Regex(r'#.*', '')
_rest = Optional(Regex(r'[^#]+', ''))

string = Choice(r_singleq_str, r_doubleq_str)
_ops = Tokens('+ - * % /')
int_expr = Expression(Choice(r_integer, action=lambda n: ('int', n)), _ops)
time_expr = Expression(Choice(
    r_time_str,
    K('now', action=lambda _: ('now',)),
    Choice(string, action=lambda s: ('date', s)),
    Choice(r_integer, action=lambda n: ('int', n))), _ops)

int_operator = Tokens('< > == != <= >=')
str_operator = Tokens('< > == != <= >= ~ !~')
bool_operator = Tokens('== !=')


def _cmp(values: list[Any]) -> st.Condition:
    prop, op, value = values
    return st.Condition('cmp', prop=prop, op=op, value=value)


def _where_tree(values: list[Any]) -> st.Condition:
    # 'and' binds tighter than 'or'; groups arrive as nested lists.
    def node(item: Any) -> st.Condition:
        return _where_tree(item[0]) if isinstance(item, list) else item

    terms: list[st.Condition] = [node(values[0])]
    ors: list[st.Condition] = []
    for op, item in zip(values[1::2], values[2::2], strict=True):
        if op == 'and':
            terms[-1] = st.Condition('and', left=terms[-1], right=node(item))
        else:
            ors.append(terms.pop())
            terms.append(node(item))
    result = terms[0]
    for left in reversed(ors):
        result = st.Condition('or', left=left, right=result)
    return result


where_series = Sequence(K('where'), Expression(Choice(
    Sequence(Choice(K('length'), K('pool')), int_operator, int_expr, action=_cmp),
    Sequence(K('name'), str_operator, string, action=_cmp),
    Sequence(Choice(K('start'), K('end')), int_operator, time_expr, action=_cmp),
    Sequence(K('type'), bool_operator, Choice(K('string'), K('integer'), K('float')),
             action=_cmp)), Choice(K('and'), K('or'))), action=lambda v: _where_tree(v[1]))

_series_match = Ref()
series_sep = Choice(
    Choice(Tokens(', |'), K('union'), action=lambda _: 'union'),
    Choice(Token('-'), K('difference'), action=lambda _: 'difference'),
    Choice(Token('&'), K('intersection'), action=lambda _: 'intersection'),
    Choice(Token('^'), K('symmetric_difference'), action=lambda _: 'symmetric_difference'))
series_match = List(Choice(
    Choice(Token('*'), K('all'), action=lambda _: st.MatchItem('all')),
    Choice(string, action=lambda name: st.MatchItem('name', name)),
    Choice(r_grave_str, action=lambda name: st.MatchItem('group', name)),
    Choice(r_regex, action=lambda rx: st.MatchItem('regex', rx)),
    Sequence('(', _series_match, ')', action=lambda v: st.MatchItem('match', v[1]))),
    series_sep, 1, action=lambda v: st.SeriesMatch(v[0], v[1]))
_series_match.target = series_match


def _function(name: str) -> Element:
    return Sequence(K(name), '(', Optional(time_expr), ')',
                    action=lambda v: st.Function(name, v[2]))


_AGG_NAMES = ('mean', 'median', 'median_high', 'median_low', 'sum', 'min', 'max', 'count',
              'variance', 'pvariance', 'stddev', 'first', 'last')
f_limit = Sequence(K('limit'), '(', int_expr, ',', Choice(*[K(n) for n in _AGG_NAMES]), ')',
                   action=lambda v: st.Function('limit', None, [v[2], v[4]]))
f_filter = Sequence(K('filter'), '(', Optional(str_operator), Choice(
    string, r_integer, r_float, Choice(r_regex, action=lambda rx: ('regex', rx)),
    K('nan'), K('inf'), Sequence('-', K('inf'), action=lambda _: '-inf'),
    most_greedy=True), ')', action=lambda v: st.Function('filter', None, [v[2] or '==', v[3]]))
f_derivative = Sequence(K('derivative'), '(', List(time_expr, ',', 0, 2), ')',
                        action=lambda v: st.Function('derivative', None, v[2][0]))
aggregate_functions = List(Choice(
    Choice(Token('*'), K('all'), action=lambda _: st.Function('*')),
    f_limit,
    *[_function(n) for n in ('mean', 'sum', 'median', 'median_low', 'median_high', 'min',
                             'max', 'count', 'variance', 'pvariance', 'stddev', 'first',
                             'last', 'difference')],
    f_derivative,
    f_filter,
    K('points', action=lambda _: st.Function('*'))), '=>', 1, action=lambda v: v[0])

select_aggregate = Sequence(
    aggregate_functions,
    Optional(Sequence(K('prefix'), string, action=lambda v: v[1])),
    Optional(Sequence(K('suffix'), string, action=lambda v: v[1])),
    action=lambda v: st.Aggregate(v[0], v[1] or b'', v[2] or b''))

select_stmt = Sequence(
    K('select'), List(select_aggregate, ',', 1, action=lambda v: v[0]), K('from'), series_match,
    Optional(where_series),
    Optional(Choice(
        Sequence(K('after'), time_expr, action=lambda v: st.TimeRange('after', v[1])),
        Sequence(K('between'), time_expr, K('and'), time_expr,
                 action=lambda v: st.TimeRange('between', v[1], v[3])),
        Sequence(K('before'), time_expr, action=lambda v: st.TimeRange('before', None, v[1])),
        Sequence(K('head'), int_expr, action=lambda v: st.TimeRange('head', v[1])),
        Sequence(K('tail'), int_expr, action=lambda v: st.TimeRange('tail', v[1])))),
    Optional(Gated(Sequence(K('merge'), K('as'), string,
                            Optional(Sequence(K('using'), aggregate_functions))))),
    action=lambda v: st.Select(v[1], v[3], v[4], v[5], v[6]))

_SERIES_COLUMNS = ('name', 'type', 'length', 'start', 'end', 'pool')
series_columns = List(Choice(*[K(c) for c in _SERIES_COLUMNS]), ',', 1, action=lambda v: v[0])


def _stub(*words: str) -> Element:
    # Recognised so that syntax errors list it, refused by a strict parse (see Gated).
    return Gated(Sequence(*[K(w) for w in words], _rest),
                 action=lambda _: st.Unsupported(' '.join(words)))


list_stmt = Sequence(K('list'), Choice(
    Sequence(K('series'), Optional(series_columns), Optional(series_match),
             Optional(where_series), action=lambda v: st.ListSeries(v[1] or ['name'], v[2], v[3])),
    _stub('users'), _stub('shards'), _stub('groups'), _stub('servers'), _stub('pools')),
    Optional(Sequence(K('limit'), int_expr, action=lambda v: v[1])))


def _list_action(values: list[Any]) -> Any:
    body = values[1]
    if isinstance(body, st.ListSeries):
        body.limit = values[2]
    return body


list_stmt.action = _list_action

count_stmt = Sequence(K('count'), Choice(
    _stub('groups'), _stub('pools'),
    Sequence(K('series'), Optional(series_match), Optional(where_series),
             action=lambda v: st.CountSeries(v[1], v[2])),
    _stub('servers'), _stub('shards'), _stub('users'),
    Sequence(K('series'), K('length'), Optional(series_match), Optional(where_series),
             action=lambda v: st.CountSeries(v[2], v[3], length=True)),
    most_greedy=True), action=lambda v: v[1])

_set = K('set')
alter_database = Sequence(K('database'), Choice(
    Sequence(_set, K('drop_threshold'), r_float),
    Sequence(_set, K('list_limit'), r_uinteger),
    Sequence(_set, K('select_points_limit'), r_uinteger),
    Sequence(_set, K('timezone'), string),
    Sequence(_set, K('tee'), Choice(string, K('false', action=lambda _: False)))),
    action=lambda v: st.AlterDatabase(v[1][1], v[1][2]))
alter_stmt = Sequence(K('alter'), Choice(
    _stub('user'), _stub('group'), _stub('server'), _stub('servers'), alter_database),
    action=lambda v: v[1])

drop_stmt = Sequence(K('drop'), Choice(
    _stub('group'),
    Sequence(K('series'), Optional(series_match), Optional(where_series),
             Optional(Sequence(_set, K('ignore_threshold'),
                               Choice(K('true'), K('false')), action=lambda v: v[2] == 'true')),
             action=lambda v: st.DropSeries(v[1], v[2], bool(v[3]))),
    _stub('shards'), _stub('server'), _stub('user')), action=lambda v: v[1])

SHOW_NAMES = (
    'active_handles', 'active_tasks', 'buffer_path', 'buffer_size', 'dbname', 'dbpath',
    'drop_threshold', 'duration_log', 'duration_num', 'fifo_files', 'idle_percentage',
    'idle_time', 'ip_support', 'libuv', 'list_limit', 'log_level', 'max_open_files',
    'mem_usage', 'open_files', 'pool', 'received_points', 'reindex_progress',
    'selected_points', 'select_points_limit', 'server', 'startup_time', 'status',
    'sync_progress', 'tee', 'time_precision', 'timezone', 'uptime', 'uuid', 'version',
    'who_am_i')
show_stmt = Sequence(K('show'), List(Choice(*[K(n) for n in SHOW_NAMES]), ',', 0),
                     action=lambda v: st.Show(v[1][0]))

START = Sequence(
    Optional(K('timeit')),
    Optional(Choice(
        select_stmt, list_stmt, count_stmt, alter_stmt, _stub('create'), drop_stmt,
        _stub('grant'), _stub('revoke'), show_stmt,
        Choice(time_expr, action=st.Calc),
        Gated(Sequence(Choice(K('help'), Token('?')), _rest),
              action=lambda _: st.Unsupported('help')))),
    Optional(r_comment),
    action=lambda v: st.Statement(v[1] if v[1] is not None else st.Calc(None), v[0] is not None))
