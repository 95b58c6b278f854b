"""The WSGI entry point inside the package, for an installed wheel: `gunicorn eventapp.wsgi:app`.

The checkout's top-level wsgi.py (`gunicorn wsgi:app`) does the same from a clone.
"""

from . import create_app

app = create_app()
