"""Error pages in the service's own words; never a stack trace, never personal data."""

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError


def register(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        current_app.logger.info("CSRF check failed: %s", error.description)
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(500)
    def server_error(_error):
        return render_template("errors/500.html"), 500
