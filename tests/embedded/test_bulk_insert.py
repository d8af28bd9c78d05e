"""The embedded store's bulk insert (``Store.insert_rows``): a batch is one or two
statements, so the search index writes one or two segments for it, and it leaves the
same rows, index answers and search answers as documents inserted one by one."""
import datetime
import re
import sqlite3

import pytest
from bson import ObjectId

from core.db.embedded import store as store_module
from core.db.embedded.store import Store

INDEXES = [[("created", -1), ("_id", -1)], [("category", 1), ("created", -1), ("_id", -1)],
           [("published", 1), ("created", -1), ("_id", -1)]]
BASE = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)


def articles(count):
    return [{"_id": ObjectId(), "title": f"Article {i} about {'zebras' if i % 50 == 0 else 'cats'}",
             "body": "Lorem ipsum dolor sit amet", "published": i % 2 == 0, "category": i % 7,
             "tags": ["bench", f"t{i % 3}"], "created": BASE + datetime.timedelta(seconds=37 * i)}
            for i in range(count)]


@pytest.fixture
def store(tmp_path):
    opened = Store(str(tmp_path / "store.sqlite3"), "test")
    yield opened
    opened.close()


def declare(store, coll):
    for n, spec in enumerate(INDEXES):
        store.create_index(coll, spec, False, f"ix{n}", None)
    store.create_search_index(coll, ["title", "body"])


class CountingConnection:
    """A connection that counts the ``INSERT`` statements run into ``coll``'s table (and
    keeps their texts)."""

    def __init__(self, conn, coll):
        self.conn, self.prefix, self.inserts = conn, f'INSERT INTO "c:{coll}"', 0
        self.texts = []

    def execute(self, statement, *args):
        if statement.startswith(self.prefix):
            self.inserts += 1
            self.texts.append(statement)
        return self.conn.execute(statement, *args)

    def __getattr__(self, name):
        return getattr(self.conn, name)


def inserts_of(store, coll, docs, monkeypatch, ordered=True, counting=None):
    """``(result, number of INSERT statements into the collection's table)``."""
    counting = counting or CountingConnection(store.connection(), coll)
    with monkeypatch.context() as patch:
        patch.setattr(store, "connection", lambda: counting)
        result = store.insert(coll, docs, ordered)
    return result, counting.inserts


def answers(store, coll):
    """What the declared indexes and the search index answer, as ``_id`` lists."""
    def ids(flt, sort):
        return [d["_id"] for d in store.find(coll, flt, (None, [], True), sort, 0, 0)]
    newest = [("created", -1), ("_id", -1)]
    return [ids({}, newest), ids({"category": 3}, newest), ids({"published": True}, newest),
            ids({"title": {"$regex": re.escape("zebras"), "$options": "i"}}, newest),
            ids({"tags": "t1", "category": {"$gte": 5}}, newest)]


def test_a_batch_is_two_statements_at_most_and_answers_as_one_by_one_inserts(store, monkeypatch):
    docs = articles(1200)
    declare(store, "bulk")
    declare(store, "single")
    (count, errors), statements = inserts_of(store, "bulk", docs, monkeypatch)
    assert (count, errors, statements) == (1200, [], 2)     # 1,000 rows, then 200
    for doc in docs:
        store.insert("single", [doc], True)
    assert answers(store, "bulk") == answers(store, "single")
    assert len(answers(store, "bulk")[3]) == 24


def test_a_build_that_takes_fewer_parameters_splits_a_batch(store, monkeypatch):
    docs = articles(230)
    declare(store, "bulk")
    store.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    assert store_module._insert_chunk_size(store.connection()) == 50
    docs[120]["_id"] = docs[10]["_id"]      # a duplicate in the third statement
    (count, errors), statements = inserts_of(store, "bulk", docs, monkeypatch, ordered=False)
    assert count == 229 and [position for position, _exc in errors] == [120]
    # five statements, the third of them failing; it is split in halves down to the
    # duplicate (12 statements), not inserted row by row (50); the duplicate's own
    # statement's error names the key (it is not inserted once more to get it back)
    assert statements == 5 + 12
    assert answers(store, "bulk")[0] == [d["_id"] for d in sorted(
        docs[:120] + docs[121:], key=lambda d: d["created"], reverse=True)]


def test_an_ordered_batch_stops_at_its_first_duplicate(store, monkeypatch):
    docs = articles(300)
    declare(store, "bulk")
    store.insert("bulk", [docs[250]], True)
    docs[180]["_id"] = docs[40]["_id"]      # the first duplicate; 250 is the second
    (count, errors), _statements = inserts_of(store, "bulk", docs, monkeypatch)
    assert count == 180 and [position for position, _exc in errors] == [180]
    assert errors[0][1].details["keyValue"] == {"_id": docs[40]["_id"]}
    assert sorted(answers(store, "bulk")[0]) == sorted(d["_id"] for d in docs[:180] + [docs[250]])


def test_the_statement_texts_stay_few_whatever_the_batch_sizes(store, monkeypatch):
    """Each distinct text stays in the connection's statement cache (a 5,000-row one is
    ~1.3 MB): a batch is written as a multiple of 250 rows, then the rest."""
    counting = CountingConnection(store.connection(), "bulk")
    sizes, first = range(260, 5001, 97), 0
    for size in sizes:
        docs = [{"_id": first + i} for i in range(size)]
        if size % 3 == 0:
            docs[size // 3]["_id"] = first      # a duplicate: halves of odd sizes
        (count, errors), _statements = inserts_of(store, "bulk", docs, monkeypatch,
                                                  ordered=False, counting=counting)
        assert count == size - len(errors) and len(errors) == (size % 3 == 0)
        first += size
    rows = {text: text.count("(?, ?)") for text in counting.texts}
    assert all(n % 250 == 0 or n < 250 for n in rows.values())
    assert len([n for n in rows.values() if n >= 250]) <= 20 < len(sizes)
