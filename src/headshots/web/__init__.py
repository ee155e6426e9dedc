"""The web page: server-rendered pages (Jinja2, a small plain script, no build step) on the
same app as the API, calling the same ``OrderService``: sign-up / sign-in → consent → photos →
styles → progress → preview → gallery and download → privacy. ``docs/web.md`` describes it.

``install_web(app)`` mounts it (``create_app`` does); it holds no pipeline logic
(import-linter checks it)."""

from headshots.web._app import install_web

__all__ = ["install_web"]
