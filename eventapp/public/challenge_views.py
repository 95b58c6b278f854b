"""GET /challenge: a fresh proof-of-work challenge for the registration form's widget and
for anonymous API clients (eventapp/bot_challenge.py)."""

from flask import jsonify

from .. import bot_challenge
from .blueprint import bp


@bp.get("/challenge")
def challenge():
    response = jsonify(bot_challenge.new_challenge())
    response.headers["Cache-Control"] = "no-store"  # each registration solves its own
    return response
