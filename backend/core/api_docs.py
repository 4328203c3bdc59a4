"""The API's documentation page (/docs) and its OpenAPI document (/openapi.json), served only when the settings
say so (`API_DOCS`; off in production by default: the document maps every route for an attacker).

Swagger UI comes from the npm package `swagger-ui-dist`, copied by `make assets` into
frontend/static/vendor/swagger-ui/ and served by the app like htmx: a county intranet without internet still
shows it. The page has no inline script (the content security policy forbids one): frontend/static/api-docs.js
starts Swagger UI. ReDoc is not served (it would need a third bundle for the same document).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"
SWAGGER_UI = "/static/vendor/swagger-ui"

_PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}} · API</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js" defer></script>
<script src="/static/api-docs.js" defer></script>
</body>
</html>
"""


def openapi_url(enabled: bool) -> str | None:
    """FastAPI's OpenAPI URL: the document when enabled. Its own /docs and /redoc (loaded from a CDN) stay off."""
    return OPENAPI_URL if enabled else None


def install_api_docs(app: FastAPI) -> None:
    """Serve /docs, from the app's own assets, when the app serves its OpenAPI document."""
    if app.openapi_url is None:
        return
    page = _PAGE.replace("{title}", app.title)

    @app.get(DOCS_URL, include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page)
