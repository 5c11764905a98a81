"""Server-rendered pages (login, consent, logout, errors): Jinja2 templates, no external assets.

Every page goes out through :func:`render`, which sets the headers the issue asks of all of
them: a Content-Security-Policy that allows only this origin's stylesheet and images (no
inline script or style, ``frame-ancestors 'none'``), ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``. Branding (title, name, logo,
colours) comes from the settings; colours reach the page through a generated stylesheet, since
the policy forbids inline styles. One page runs a script: the ``form_post`` response
(:func:`form_post_policy`), whose same-origin ``/static/form_post.js`` submits the form (and a
``<noscript>`` button does without it); its policy allows that script file and a form to the
client's origin, nothing inline.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from jwtkit.server._settings import Settings

__all__ = ["PAGE_HEADERS", "STATIC", "form_post_policy", "render", "theme_css"]

_HERE: Final = Path(__file__).resolve().parent
STATIC: Final = _HERE / "static"

_POLICY: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": _POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    settings: Settings,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """Render ``template`` with the branding of ``settings`` and the page headers."""
    page = (
        _environment()
        .get_template(template)
        .render(
            brand_name=settings.brand_name,
            brand_title=settings.brand_title,
            has_logo=settings.brand_logo is not None,
            **context,
        )
    )
    return HTMLResponse(page, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def form_post_policy(action: str) -> str:
    """Return the Content-Security-Policy of a ``form_post`` page posting to ``action``.

    The page's own policy plus ``script-src 'self'`` (the one same-origin script file, no
    inline script) and ``form-action`` limited to the client's origin (or its private-use
    scheme: a native app's redirect URI).
    """
    parts = urlsplit(action)
    target = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    return f"{_POLICY}; script-src 'self'; form-action {target}"


def theme_css(settings: Settings) -> str:
    """Return the stylesheet of the brand colours (validated hex colours, see Settings)."""
    return (
        ":root {\n"
        f"  --brand: {settings.brand_color};\n"
        f"  --brand-text: {settings.brand_text_color};\n"
        f"  --page: {settings.brand_background};\n"
        "}\n"
    )
