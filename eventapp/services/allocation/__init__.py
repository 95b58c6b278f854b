"""Fair allocation of oversubscribed workshops from ranked preferences.

- runs.py: the database side: preferences, dry runs, publication, the deadline job;
- solver.py: the pure optimisation core (no database), with its baselines.
"""
