"""The benchmark's WSGI entry point: `gunicorn -c gunicorn.conf.py bench.wsgi_bench:app`.

The app exactly as wsgi.py builds it, plus the bench's baseline endpoints and query counter
(bench/baseline_app.py). bench/run.py serves this; production serves wsgi.py, which has
neither.
"""

from bench.baseline_app import create_bench_app

app = create_bench_app()
