"""What every site answers besides its pages."""

from flask import current_app, send_from_directory

from .blueprint import bp


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask every site for /favicon.ico; without it each page view logged a 404."""
    return send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400
    )
