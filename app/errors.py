"""Error pages in the service's own words; never a stack trace, never personal data.

Under ``/api/`` the answer is JSON with a stable code from the sync error catalogue.
"""

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from sync.errors import SyncError


def _api(code: str):
    error = SyncError(code)
    return jsonify(error.body()), error.error.status


def register(app: Flask) -> None:
    @app.errorhandler(403)
    def forbidden(_error):
        if request.path.startswith("/api/"):
            return _api("NOT_PERMITTED")
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(_error):
        if request.path.startswith("/api/"):
            return _api("NOT_FOUND")
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def method_not_allowed(_error):
        if request.path.startswith("/api/"):
            return _api("METHOD_NOT_ALLOWED")
        return render_template("errors/404.html"), 405

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        current_app.logger.info("CSRF check failed: %s", error.description)
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(500)
    def server_error(_error):
        if request.path.startswith("/api/"):
            return _api("SERVER_ERROR")
        return render_template("errors/500.html"), 500
