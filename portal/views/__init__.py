"""The portal's pages and endpoints, one blueprint per URL area. Views never import one another."""
from __future__ import annotations

from flask import Flask

from . import api, auth, build, datapack, health, home, upload

BLUEPRINTS = (home.bp, auth.bp, upload.bp, datapack.bp, build.bp, api.bp, health.bp)


def register_views(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
