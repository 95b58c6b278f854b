"""Static files cached for a year by browsers and proxies, yet never stale after a deploy.

Every `url_for("static", filename=...)` gets `?v=<hash of the file's bytes>` appended, so a
changed file has a new URL. Responses for such versioned URLs say `max-age=<a year>,
immutable`; an unversioned static URL (an old bookmark, a hand-written link) gets the short
STATIC_UNVERSIONED_MAX_AGE instead. Other `send_file` responses (calendar downloads, exports)
are untouched: they keep Flask's default of no max-age.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request

VERSION_ARG = "v"
HASH_LENGTH = 12


class _FileVersions:
    """Content hashes of static files, recomputed only when a file's mtime or size changes."""

    def __init__(self, folder: str):
        self.folder = folder
        self._cache: dict[str, tuple[tuple[int, int], str]] = {}

    def version(self, filename: str) -> str | None:
        path = os.path.join(self.folder, filename)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(filename)
        if cached and cached[0] == key:
            return cached[1]
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:HASH_LENGTH]
        self._cache[filename] = (key, digest)
        return digest


def init_app(app: Flask) -> None:
    if not app.static_folder:
        return
    versions = _FileVersions(app.static_folder)

    @app.url_defaults
    def add_static_version(endpoint: str, values: dict) -> None:
        if endpoint != "static" or VERSION_ARG in values:
            return
        filename = values.get("filename")
        digest = versions.version(filename) if isinstance(filename, str) else None
        if digest:
            values[VERSION_ARG] = digest

    @app.after_request
    def cache_static_files(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        if request.args.get(VERSION_ARG):
            max_age = int(app.config["STATIC_VERSIONED_MAX_AGE"])
            response.headers["Cache-Control"] = f"public, max-age={max_age}, immutable"
        else:
            max_age = int(app.config["STATIC_UNVERSIONED_MAX_AGE"])
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
        return response
