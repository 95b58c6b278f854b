"""Email: queueing, rendering by kind, sending, retrying, and timed reminders.

- outbox.py: queue an email as a row in the transaction of the change that causes it;
- worker.py: claim due OutboxMessage rows, send, retry with backoff, record the outcome
  (the delivery guarantees are explained there);
- context.py, kinds.py, render.py: an outbox row -> an email in the attendee's language,
  with calendar objects (services/calendar/) and the check-in QR code;
- transport.py: the MIME tree and safe headers;
- delivery.py: the SMTP connection (outage or this message's failure?), SMTPUTF8, .eml files;
- loop.py: one round, the endless loop, and the in-process thread of `flask run`;
- reminders.py: the reminder before the event.
"""
