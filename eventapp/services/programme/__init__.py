"""The programme: events, rooms, speakers and sessions, and what changes them.

- reading.py: sessions with their seats, workshop rounds, overlaps, whether registration is open;
- cleaning.py: the field rules for programme input from forms, the API and imports;
- schedule/: creating, editing, moving and cancelling events, rooms, speakers and sessions
  (one path for forms, API, import);
- conflicts.py: what clashes (rooms, speakers, attendees) when a session is saved, and now;
- importing.py: a programme from CSV or ICS, all or nothing, with a dry run;
- notifications.py: telling attendees about changes, in the transaction of the change.
"""
