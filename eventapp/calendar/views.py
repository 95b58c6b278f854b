"""Calendar downloads and feeds (ICS). Being built in the mail-and-calendar issue."""

from flask import abort

from . import bp


@bp.get("/calendar/<token>.ics")
def personal_feed(token: str):
    abort(404)
