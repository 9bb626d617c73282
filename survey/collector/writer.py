"""Group commit: one writer thread stores the sealed answers waiting, in one durable commit.

Every submission joins a FIFO queue. One thread (started when work arrives, gone when the
queue has been idle a second) takes all that wait, up to :data:`MAX_BATCH`, and stores them
in one transaction (``BEGIN IMMEDIATE`` on SQLite): per answer, in a savepoint of its own,
the code's lookup, its consumption (``UPDATE … WHERE NOT used``: on PostgreSQL the row lock
decides between worker processes) and the insert. A refusal of one answer (used code, replay,
any error of its statements) rolls back its savepoint only; the others go on. Each request
hears its outcome only after the ``COMMIT`` returned (``synchronous=FULL``): a 201 is always
durable, and if the commit fails no submission of the batch is stored and each hears 503.

Why: a lock taken by each request's worker thread is not fair (some requests waited a second
while others passed) and its holder fought 40 threads for the GIL at every statement; here
requests are served in arrival order, two threads share the GIL, and several answers share
one fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError

from survey.collector.models import CollectorCode, CollectorResponse
from survey.forms.payload import SEAL_OVERHEAD

if TYPE_CHECKING:
    from survey.collector.intake import Installed, Intake

MAX_BATCH = 128  # answers per transaction: bounds the work one failed commit has to redo
IDLE_SECONDS = 1.0  # the thread ends after this long without work (no thread per Intake left)

_CODES = CollectorCode.__table__  # type: ignore[attr-defined]
CODE_ROW = select(_CODES.c.cohort, _CODES.c.used).where(
    _CODES.c.hash == bindparam("hash"), _CODES.c.study == bindparam("study")
)

# Inside the batch the statements go to the driver's cursor as plain SQL: SQLAlchemy's
# per-statement machinery cost several times the statement itself, and every answer runs
# five. The SQL is written once, with named parameters (":name" for sqlite3; "%(name)s" for
# psycopg), for exactly the columns of the models.
_SQL = {
    "lookup": "SELECT cohort, used FROM collector_code WHERE hash = :hash AND study = :study",
    "consume": "UPDATE collector_code SET used = TRUE WHERE hash = :hash AND NOT used",
    "store": (
        "INSERT INTO collector_response (id, study, cohort, form_id, version, day, sealed, "
        "sealed_hash, bundle) VALUES (:id, :study, :cohort, :form_id, :version, :day, "
        ":sealed, :sealed_hash, NULL)"
    ),
    "savepoint": "SAVEPOINT answer",
    "release": "RELEASE SAVEPOINT answer",
    "undo": "ROLLBACK TO SAVEPOINT answer",
}
_PSYCOPG_SQL = {k: re.sub(r":(\w+)", r"%(\1)s", v) for k, v in _SQL.items()}
assert {c.name for c in CollectorResponse.__table__.columns} == {  # type: ignore[attr-defined]
    "id",
    "study",
    "cohort",
    "form_id",
    "version",
    "day",
    "sealed",
    "sealed_hash",
    "bundle",
}

Outcome = str | BaseException  # the new record's id, or the refusal to raise


@dataclass(slots=True)
class Pending:
    """One submission waiting for the writer: the code as typed, the decoded sealed bytes."""

    code: str
    sealed: bytes
    deliver: Callable[[Outcome], None]
    since: float = field(default_factory=time.monotonic)


def store(intake: Intake, revision: int | None, batch: Sequence[Pending]) -> list[Outcome]:
    """Store ``batch`` in one transaction; the outcome of each, in order.

    Raises (and nothing of the batch is stored) when the transaction as a whole fails.
    """
    from survey.collector import intake as refusals  # the refusals live beside the checks

    installed = intake.current(revision)
    if intake.is_closed(installed):
        return [refusals.closed() for _ in batch]
    sqlite = intake.settings.is_sqlite
    # sqlite3 stores a date as SQLAlchemy does only if given the ISO text.
    day: date | str = intake.clock().isoformat() if sqlite else intake.clock()
    sql = _SQL if sqlite else _PSYCOPG_SQL
    dbapi = intake.engine.dialect.loaded_dbapi
    outcomes: list[Outcome] = []
    with intake.engine.connect() as raw:
        conn = raw.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            cursor = conn.connection.cursor()
            try:
                for item in batch:
                    try:
                        outcomes.append(
                            _store_one(cursor, sql, dbapi, intake, installed, day, item)
                        )
                    except refusals.IntakeError as exc:
                        outcomes.append(exc)
            except dbapi.Error as exc:  # the transaction as a whole: nothing is committed
                raise DBAPIError(None, None, exc) from exc
            finally:
                cursor.close()
    # Only here, after the commit returned, may any of them be answered 201.
    return outcomes


def _store_one(
    cursor: Any,
    sql: dict[str, str],
    dbapi: Any,
    intake: Intake,
    installed: Installed,
    day: date | str,
    item: Pending,
) -> str:
    from survey.collector import intake as refusals

    digest = intake.code_digest(item.code)
    cursor.execute(sql["lookup"], {"hash": digest, "study": intake.study_name})
    row = cursor.fetchone()
    cohort, used, form = refusals.form_of_code(installed, row)
    if used:  # also a code consumed earlier in this very batch
        raise refusals.code_used()
    if len(item.sealed) != form.padded_size + SEAL_OVERHEAD:
        # Every answer of a form has exactly this length: anything else is not ours.
        raise refusals.Malformed("送信データの長さが違います。", "sealed has the wrong length.")
    record = {
        "id": uuid.uuid4().hex,
        "study": intake.study_name,
        "cohort": cohort,
        "form_id": form.id,
        "version": form.version,
        "day": day,
        "sealed": item.sealed,
        "sealed_hash": hashlib.sha256(item.sealed).digest(),
    }
    # A savepoint per answer: its refusal undoes its own statements and nothing else.
    cursor.execute(sql["savepoint"])
    try:
        cursor.execute(sql["consume"], {"hash": digest})
        if cursor.rowcount != 1:
            raise refusals.code_used()  # another worker process's submission won the code
        cursor.execute(sql["store"], record)
    except dbapi.IntegrityError as exc:
        cursor.execute(sql["undo"])  # the code stays unused: only this answer is refused
        raise refusals.Duplicate(
            "同じ回答がすでに届いています。", "These sealed bytes are already stored."
        ) from exc
    except refusals.IntakeError:
        cursor.execute(sql["undo"])
        raise
    except dbapi.Error as exc:
        # Any other failure of this answer's statements: undo them, refuse it, keep the rest.
        # (If the database dropped the whole transaction, the undo itself fails and the batch
        # fails as one: nobody hears 201.)
        cursor.execute(sql["undo"])
        raise refusals.busy() from exc
    finally:
        cursor.execute(sql["release"])
    return str(record["id"])


class Writer:
    """The queue and the one thread that empties it, for one process and one database.

    ``resolve`` gives the intake to store with and its revision (None: read it), once per
    batch, in the writer thread: so a request never queries the database before it queues.
    """

    def __init__(self, resolve: Callable[[], tuple[Intake, int | None]], timeout: float) -> None:
        self.resolve = resolve
        self.timeout = timeout  # seconds a submission may wait in the queue before 503
        self._queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._state = threading.Lock()
        self._running = False

    def enqueue(self, item: Pending) -> None:
        self._queue.put(item)
        with self._state:
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="collector-writer", daemon=True).start()

    def submit(self, code: str, sealed: bytes) -> str:
        """Queue one submission and wait for its durable outcome (for a worker thread)."""
        done = threading.Event()
        box: list[Outcome] = []

        def deliver(outcome: Outcome) -> None:
            box.append(outcome)
            done.set()

        self.enqueue(Pending(code, sealed, deliver))
        done.wait()
        return _unwrap(box[0])

    async def submit_async(self, code: str, sealed: bytes) -> str:
        """Queue one submission and await its durable outcome (on the event loop)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()

        def deliver(outcome: Outcome) -> None:
            # A loop already closed has nobody left to tell (the outcome stands).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, outcome)

        self.enqueue(Pending(code, sealed, deliver))
        return _unwrap(await future)

    def _take(self) -> list[Pending] | None:
        """The next batch: all waiting (at most MAX_BATCH); None when idle long enough."""
        try:
            first = self._queue.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            with self._state:
                if self._queue.empty():
                    self._running = False
                    return None
            return []
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        from survey.collector.intake import IntakeError, busy

        while (batch := self._take()) is not None:
            if not batch:
                continue
            # Past the busy timeout a submission is refused unstored rather than kept waiting.
            late = time.monotonic() - self.timeout
            for item in batch:
                if item.since < late:
                    item.deliver(busy())
            batch = [item for item in batch if item.since >= late]
            if not batch:
                continue
            outcomes: Sequence[Outcome]
            try:
                intake, revision = self.resolve()
                outcomes = store(intake, revision, batch)
            except IntakeError as exc:  # e.g. no study to collect for: each hears it
                outcomes = [type(exc)(exc.ja, exc.en) for _ in batch]
            except DBAPIError:  # the transaction failed: nothing of it was stored
                outcomes = [busy() for _ in batch]
            except BaseException as exc:  # a defect: still, no request may wait forever
                outcomes = [exc] * len(batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                item.deliver(outcome)


def _settle(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():  # the client went away: the outcome stands, nobody hears it
        future.set_result(outcome)


def _unwrap(outcome: Outcome) -> str:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
