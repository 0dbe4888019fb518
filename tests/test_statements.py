"""What a request of the loop costs the database: statements, connection checkouts and transactions.

The budget per move is the caller's lookup (who is asking), the order with its
category, the compare-and-set UPDATE, the event, the outbox rows and the answer's
reads (the timeline, the photos, the names). The numbers are pinned: a change that adds
a statement to the hot path fails here and has to say why.
"""

from __future__ import annotations


from sqlalchemy import event

from tests.helpers import act, get, place, upload


class Counted:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self.checkouts = 0
        self.rollbacks = 0
        self.begins = 0

    def __enter__(self) -> Counted:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine.pool, "checkout", self._checkout)
        event.listen(self.engine, "rollback", self._rollback)
        event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine.pool, "checkout", self._checkout)
        event.remove(self.engine, "rollback", self._rollback)
        event.remove(self.engine, "begin", self._begin)

    def _statement(self, conn, cursor, statement, params, context, executemany) -> None:
        self.statements.append(statement.split(None, 1)[0].upper())

    def _checkout(self, *args) -> None:
        self.checkouts += 1

    def _begin(self, conn) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.begins += 1

    def _rollback(self, conn) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.rollbacks += 1

    @property
    def sql(self) -> int:
        """Statements other than SQLite's BEGIN (a transaction, counted apart)."""
        return sum(s != "BEGIN" for s in self.statements)

    @property
    def transactions(self) -> int:
        """Transactions begun (a writer's BEGIN IMMEDIATE goes to the driver, not through a cursor)."""
        return self.begins


# (statements, checkouts) per request, as measured on SQLite and PostgreSQL: who is asking
# (1, outside a transaction: in a GET's own session, for a write in a reader's), the order with its category, the compare-and-set UPDATE, the
# event, the outbox rows (one INSERT), then the answer: the names (category, grid, branch,
# assignee in one statement), the photos and the timeline. Placing reads the resident, the
# grid and the category, inserts the order, and adds the two hourly counters; a dispatch
# reads the member, a completion updates its photos. A rating judges the member's attempt
# for the points passbook: the town with the attempt's completion, the rules in effect, the
# entries' INSERT.
BUDGET = {
    "place": (12, 2), "claim": (8, 2), "dispatch": (9, 2), "accept": (8, 2), "upload": (4, 2),
    "complete": (9, 2), "rate": (11, 2), "get": (5, 1),
}


def test_the_loops_requests_stay_within_their_budget(client, world, database, test_database):
    seen = {}

    def measure(step, call):
        with Counted(database.engine) as counted:
            result = call()
        seen[step] = counted
        return result

    order = measure("place", lambda: place(client, world))["id"]
    measure("claim", lambda: act(client, world, "workerA1", order, "claim"))
    measure("dispatch", lambda: act(client, world, "secA", order, "dispatch", {"member_id": world["memberA1"]}))
    measure("accept", lambda: act(client, world, "memberA1", order, "accept"))
    photo = measure("upload", lambda: upload(client, world, "memberA1"))
    measure("complete", lambda: act(client, world, "memberA1", order, "complete", {"note": "好了", "photo_ids": [photo]}))
    measure("rate", lambda: act(client, world, "res1", order, "rate", {"stars": 5}))
    measure("get", lambda: get(client, world, "res1", order))

    report = {step: (c.sql, c.checkouts, c.rollbacks, c.transactions) for step, c in seen.items()}
    print(test_database.backend, report)
    for step, (statements, checkouts) in BUDGET.items():
        counted = seen[step]
        assert counted.sql <= statements, (step, report[step])
        assert counted.checkouts <= checkouts, (step, report[step])
        # A write is one transaction, a read none; nothing is rolled back after either.
        assert counted.rollbacks == 0, (step, report[step])
        assert counted.transactions == (0 if step == "get" else 1), (step, report[step])
