"""The installable web app: manifest, service worker (served from / for a site-wide scope)
and the page shown when the local node cannot be reached."""

import hashlib

from flask import Blueprint, current_app, render_template

from app.templating import asset_url

bp = Blueprint("pwa", __name__)

# Everything a page needs to draw with no server: precached when the service worker installs.
PRECACHE = (
    "css/app.css",
    "js/app.js",
    "vendor/govuk-frontend/govuk-frontend.min.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@bp.get("/manifest.webmanifest")
def manifest():
    body = render_template(
        "pwa/manifest.json",
        name=f"Housing MOT – {current_app.config['COUNCIL_NAME']}",
        icons={size: asset_url(f"icons/icon-{size}.png") for size in (192, 512)},
        icon_svg=asset_url("icons/icon.svg"),
    )
    return current_app.response_class(body, mimetype="application/manifest+json")


@bp.get("/sw.js")
def service_worker():
    assets = [asset_url(path) for path in PRECACHE]
    # The cache name changes whenever an asset does, so an update replaces the old cache.
    version = hashlib.sha256("".join(assets).encode()).hexdigest()[:12]
    body = render_template("pwa/sw.js", precache=[*assets, "/offline"], version=version)
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    return render_template("pwa/offline.html")
