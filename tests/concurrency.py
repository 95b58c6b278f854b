"""Racing writers against the real database: the harness the concurrency tests share."""

import threading
from collections import Counter
from collections.abc import Callable, Sequence

from eventapp.extensions import db
from eventapp.services.errors import DomainError

Act = Callable[[], str]
"""One writer's racing step, run after the barrier; it returns the writer's outcome."""

Writer = Callable[[], Act]
"""One writer's set-up, run before the barrier (loading rows, building input); it returns
the act. A writer with nothing to set up is `lambda: act`."""


def run_at_once(app, writers: Sequence[Writer], *, timeout: float = 120) -> Counter[str]:
    """Run every writer in its own thread and app context, releasing all acts together.

    A real race needs the writers to start at the same instant, each on its own connection:
    run one after another, or on one connection, they queue and the race never happens.
    Each thread sets up, commits (on SQLite a read transaction holds the write lock, and
    the others would wait for it instead of racing), waits at the barrier, then acts and
    commits. The outcome is what the act returned; a DomainError rolls back and counts as
    its `code`, and any other exception (a deadlock, a lock timeout) as "error: Class:
    message", so the test fails on it with the reason in view.
    """
    db.session.commit()  # end the caller's read transaction, for the same reason
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(writer: Writer) -> None:
        with app.app_context():
            try:
                act = writer()
                db.session.commit()  # end the set-up's read before the others start writing
            except BaseException:
                barrier.abort()  # the others stop waiting (BrokenBarrierError), no hang
                db.session.remove()
                raise
            try:
                barrier.wait(timeout=timeout)
                outcome = act()
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                outcome = error.code
            except Exception as error:  # noqa: BLE001 - counted, and the test fails on it
                db.session.rollback()
                outcome = f"error: {error.__class__.__name__}: {error}"[:300]
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a writer is still running"
    return Counter(outcomes)
