"""The domain. Plain functions over models: no request, no cookies, no rendering.

Services change the model and flush; the caller (a view, the API, the CLI, a test) commits
once, or rolls back on any error, so one request is one transaction.
"""
