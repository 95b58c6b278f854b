"""Seats: registering, the capacity guard, the waiting list, and the attendee's own changes.

- register.py: the one path for the form, the API and the CLI: rules, then writes; changing
  and cancelling one's sessions;
- seating.py: chosen sessions become rows, confirmed or waitlisted as seats allow; a dropped
  row gives its seat back;
- writes.py: a new registration's rows (one statement on PostgreSQL);
- capacity.py: the seat counter, the one place a seat is taken or given back;
- waitlist.py: freed seats pass to the first waiting attendee they suit;
- self_service.py: what attendees change through their private link;
- holds.py: seats held until the email address is confirmed, released when it is not;
- questions.py: the event's registration questions, as the organiser defines them;
- answers.py: the attendees' answers, checked like every other field and stored with them.
"""
