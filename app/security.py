"""Security headers: a strict content security policy and no caching of personal data pages."""

from flask import Flask, Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'sha256-{inline}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
# The one inline script GOV.UK Frontend's page template carries (marks the body js-enabled).
GOVUK_INLINE_SCRIPT_SHA256 = "GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw="


def init_security_headers(app: Flask) -> None:
    policy = CSP.format(inline=GOVUK_INLINE_SCRIPT_SHA256)

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/static/"):
            # Asset URLs carry a content hash (see app.templating.asset_url): cache for a year.
            if request.args.get("v"):
                response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        elif "Cache-Control" not in response.headers:
            # Pages hold personal data: never in a shared cache; the service worker keeps
            # its own short list of recent pages for when the node is briefly unreachable.
            response.headers["Cache-Control"] = "no-store, private"
        return response
