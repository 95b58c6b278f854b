"""Email: the outbox worker, rendering by kind, and the way out (SMTP or .eml files).

- worker.py: claim due OutboxMessage rows, send, retry with backoff, record the outcome
  (the delivery guarantees are explained there);
- render.py: an outbox row -> an email in the attendee's language, with calendar objects
  (services/calendar.py) and the check-in QR code; `mail_kind()` adds kinds;
- transport.py: the MIME tree, safe headers, Flask-Mail's SMTP connection, .eml files;
- loop.py: one round, the endless loop, and the in-process thread of `flask run`.
"""

from . import attendee_kinds  # noqa: F401  (registers offer, lost_link, reminder, ...)
from .loop import run_once, run_periodic, start_in_process_worker
from .render import KINDS, MailContext, mail_kind, render
from .worker import ClaimSwitches, DeliveryReport, claim_batch, retry_delay, send_pending

__all__ = [
    "KINDS",
    "ClaimSwitches",
    "DeliveryReport",
    "MailContext",
    "claim_batch",
    "mail_kind",
    "render",
    "retry_delay",
    "run_once",
    "run_periodic",
    "send_pending",
    "start_in_process_worker",
]
