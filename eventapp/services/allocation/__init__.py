"""Fair allocation of oversubscribed workshops from ranked preferences.

The database side:
- preferences.py: the rounds, attendees' rankings and their rules, demand per workshop;
- runs.py: dry runs, publication, the deadline job.

The pure core (no database):
- problem.py: workshops, rankings, their canonical form and the check of every hard rule;
- solver.py: the levels and :func:`allocate`; model.py: the per-attendee model of rounds a
  double session couples; fairness.py: independent rounds per ranking type, and the level
  that spreads misses over people;
- baselines.py: first come first served and random serial dictatorship, and the comparison;
- quality.py: what an allocation achieved (the statistics every report shows).
"""
