"""登录 as a plain HTTP page of serve.py (/signin): the password login that sets the session cookie on
its own response.

A login always ends under a token issued by this response (examdash.domain.sessions.new_token), never
under one the browser brought: a token planted in the victim's browser beforehand (from a sibling
subdomain, say) is closed and replaced, so whoever planted it is signed in as nobody. The form carries a
CSRF token bound to a SameSite=Strict cookie of its own (as the candidates' lookup does), so another site
cannot post a login into the user's browser either. After the login the browser goes back to the app
page it asked for (`next`: only an app page's address of this server).

The middleware (web/cookies.py) sends every page view without an open login here. Throttling, the login
event and the account checks are examdash.domain.auth's, as for any login.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import secrets
import urllib.parse
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from examdash import web
from examdash.domain import auth, sessions
from examdash.store import db
from examdash.web import clients, cookies, navigation
from examdash.web.lookup_route import CSRF_KEY, HEADERS, STYLE, csrf_ok, csrf_token, form_fields

PATH = cookies.SIGNIN
COOKIE = "examdash_signin"
MAX_FIELD = 128
TITLE = "1+X 数字营销技术应用 考务看板"
NEXT = re.compile(r"/[a-z_]*")
_LOG = logging.getLogger("examdash")
_STYLE = STYLE + "input[type=password]{box-sizing:border-box;width:100%;font-size:1.1rem;padding:.6rem;" \
                 "border:1px solid #bbb;border-radius:6px}\n"


def signed_in(token: str) -> bool:
    """Whether an open login stands behind the token (the middleware's question)."""
    return sessions.find(web.con(), token) is not None


def safe_next(value: str | None) -> str:
    """Where to go after the login: an app page's address of this server with its query, else '/'."""
    parts = urllib.parse.urlsplit(value or "/")
    pages = {"/"} | {f"/{p.url}" for p in navigation.PAGES}
    if parts.scheme or parts.netloc or not NEXT.fullmatch(parts.path or "") or parts.path not in pages:
        return "/"
    query = urllib.parse.quote(parts.query[:1000], safe="=&%+-_.~")  # as a browser sends it (percent-encoded)
    return parts.path + (f"?{query}" if query else "")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _page(body: str) -> str:
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>登录 · {TITLE}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def _form(token: str, next_page: str, username: str = "", message: str | None = None) -> str:
    alert = f"<div class=\"msg refused\" role=\"alert\">{_e(message)}</div>" if message else ""
    oidc = ("<p><a href=\"/login\">使用单位账号登录（OIDC）</a></p>" if web.oidc_configured() else "")
    return (f"<h1>{TITLE}</h1>{alert}"
            f"<form method=\"post\" action=\"{PATH}\" autocomplete=\"on\">"
            f"<input type=\"hidden\" name=\"csrf\" value=\"{_e(token)}\">"
            f"<input type=\"hidden\" name=\"next\" value=\"{_e(next_page)}\">"
            "<label for=\"username\">用户名</label>"
            f"<input type=\"text\" id=\"username\" name=\"username\" maxlength=\"64\" autocomplete=\"username\" "
            f"value=\"{_e(username)}\" required autofocus>"
            "<label for=\"password\">密码</label>"
            "<input type=\"password\" id=\"password\" name=\"password\" maxlength=\"128\" "
            "autocomplete=\"current-password\" required>"
            "<button type=\"submit\">登录</button></form>" + oidc
            + f"<p class=\"note\">考生查询成绩请前往 <a href=\"/lookup\">{_e(navigation.LOOKUP_TITLE)}</a>。</p>")


def _respond(content: str, nonce: str, request: Request, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(content, status_code=status, headers=HEADERS)
    response.set_cookie(COOKIE, nonce, path=PATH, httponly=True, samesite="strict", secure=cookies.https(request.scope))
    return response


def _key() -> bytes:
    return db.app(web.con()).secret(CSRF_KEY)


def _get(request: Request) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    next_page = safe_next(request.query_params.get("next"))
    return _respond(_page(_form(csrf_token(_key(), nonce), next_page)), nonce, request)


def _post(request: Request, form: dict[str, str]) -> Response:
    con = web.con()
    username, password = (str(form.get(k) or "")[:MAX_FIELD] for k in ("username", "password"))
    next_page = safe_next(form.get("next"))
    key, nonce = _key(), secrets.token_urlsafe(24)
    if not csrf_ok(key, request.cookies.get(COOKIE), str(form.get("csrf") or "")):
        return _respond(_page(_form(csrf_token(key, nonce), next_page, username, "页面已过期，请重新登录。")),
                        nonce, request, status=403)
    client = clients.address(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))
    try:
        user = auth.authenticate(con, username, password, client=client)
    except auth.AuthError as exc:
        return _respond(_page(_form(csrf_token(key, nonce), next_page, username, str(exc))), nonce, request, status=401)
    secure = cookies.https(request.scope)
    brought = cookies.token_from_header(request.headers.get("cookie"), secure)
    sessions.revoke_token(con, brought, "重新登录")  # whatever the browser brought is never signed in
    token = sessions.new_token()
    sessions.open_session(con, token, user.username, user.epoch, "password")
    response = Response(status_code=303, headers={**HEADERS, "Location": next_page})
    response.raw_headers.append((b"set-cookie", cookies.set_cookie_value(token, secure).encode("latin-1")))
    response.delete_cookie(COOKIE, path=PATH, secure=secure, httponly=True, samesite="strict")
    return response


async def endpoint(request: Request) -> Response:
    """Everything here hashes a password or reads the application database: the thread pool's work."""
    try:
        if request.method == "POST":
            try:
                form = await form_fields(request)
            except ValueError:  # more fields than a form has
                form = None
            if form is None:
                return HTMLResponse(_page(f"<h1>{TITLE}</h1><div class=\"msg refused\">请从登录页面提交。</div>"),
                                    status_code=400, headers=HEADERS)
            return await run_in_threadpool(functools.partial(_post, request, form))
        return await run_in_threadpool(functools.partial(_get, request))
    except Exception as exc:  # a short message with an id; the details in the server's log
        error_id = uuid.uuid4().hex[:10]
        _LOG.error("登录页出错，错误编号 %s", error_id, exc_info=exc)
        return HTMLResponse(_page(f"<h1>{TITLE}</h1><div class=\"msg busy\">系统繁忙，请稍后再试（错误编号 {error_id}）。"
                                  "</div>"), status_code=503, headers=HEADERS)


routes = [Route(PATH, endpoint, methods=["GET", "POST"])]
