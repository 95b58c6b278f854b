"""Fair allocation of oversubscribed workshops from ranked preferences.

The database side:
- preferences.py: the rounds, attendees' rankings and their rules, demand per workshop;
- runs.py: dry runs, publication, the deadline job;
- verification.py: a stored run replayed and compared, places and figures (--verify);
- groups.py: the organiser's priority groups (made from pasted addresses), and their report;
- inputs.py: the solver's inputs as read from the event and as stored with a run.

The pure core (no database):
- problem.py: workshops, rankings, their canonical form and the check of every hard rule;
- priority.py: the priority groups' rule (who is owed a seat where) and the per-member report;
- solver.py: the levels and :func:`allocate`; model.py: the per-attendee model of rounds a
  double session couples; fairness.py: independent rounds per ranking type, and the level
  that spreads misses over people;
- baselines.py: first come first served and random serial dictatorship, and the comparison;
- quality.py: what an allocation achieved (the statistics every report shows).
"""
