"""The article workload every store benchmark runs, so figures compare like with like.

Documents look like blog articles; one in 200 titles mentions "zebra", so the
search page has to scan about 10,000 documents to fill its 50 rows.
"""
import datetime
import re
import statistics
import time

CATEGORIES = 20
BASE_TIME = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
        "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
        "exercitation ullamco laboris.")
INDEXES = [[("category", 1), ("created", -1)], [("created", -1)]]


def article(i):
    return {
        "title": f"Article {i} about {'zebra' if i % 200 == 0 else 'cats'}",
        "body": BODY,
        "published": i % 2 == 0,
        "category": f"cat-{i % CATEGORIES}",
        "views": i,
        "created": BASE_TIME + datetime.timedelta(minutes=i),
    }


def batches(total, size=5000):
    for start in range(0, total, size):
        yield [article(i) for i in range(start, min(total, start + size))]


# (name, filter, sort, limit) — "count" is count_documents with limit=1000
QUERIES = [
    ("indexed page", {}, [("created", -1)], 50),
    ("filtered page", {"category": "cat-7"}, [("created", -1)], 50),
    ("search page", {"title": {"$regex": re.escape("about zebra"), "$options": "i"}}, None, 50),
]
COUNT_FILTER = {"published": True}
COUNT_CAP = 1000


def median_ms(samples):
    return statistics.median(samples) * 1000


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
