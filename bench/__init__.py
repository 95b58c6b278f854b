"""`make bench`: the load benchmark (run.py), its seeding (seed.py), its locust users
(locustfile.py) and its own WSGI entry point with the baseline endpoints (wsgi_bench.py,
baseline_app.py). Nothing in eventapp imports this package."""
