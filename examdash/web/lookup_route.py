"""考生成绩查询 as a plain HTTP page of serve.py's st.App: no Streamlit session, websocket or script run per
visitor, so thousands of candidates on results day cost the server a form and an answer each.

`GET /lookup` answers a small server-rendered page in Chinese that works on a phone without JavaScript: a
form (method="post") with the fields `ticket` and `id_number` and a hidden `csrf` token. `POST /lookup`
answers the result page, or one message for every kind of miss (examdash/views/lookup.py builds what it
shows, examdash/domain/lookup.py holds the rules).

CSRF: the GET sets a random nonce in a cookie (HttpOnly, SameSite=Strict, Path=/lookup) and puts an HMAC of
that nonce and the time in the form (the key is the store's, examdash/store/appdb.py); a POST whose cookie
and token do not belong together, or whose token is older than CSRF_MAX_AGE, gets a fresh form and nothing
is looked up. Nothing is written for a GET. The blocking work runs on Starlette's thread pool, never on
the event loop that serves every Streamlit session's websocket.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
import logging
import secrets
import time
import urllib.parse
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from examdash import config, web
from examdash.domain import lookup
from examdash.store import db
from examdash.views import lookup as view
from examdash.web import clients, cookies

PATH = "/lookup"
COOKIE = "examdash_lookup"
CSRF_KEY = "csrf_key"
CSRF_MAX_AGE = 2 * 3600  # seconds a form may stay open before its token is refused
MAX_FIELD = 64  # characters of a field kept (a longer one is a miss, never stored)
MAX_BODY = 4096  # bytes of a posted form (the real one is under 300)
_LOG = logging.getLogger("examdash")
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}

STYLE = """
body{margin:0;font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;background:#f5f6f8;color:#222}
main{max-width:560px;margin:0 auto;padding:16px}
h1{font-size:1.35rem;margin:.4rem 0 1rem}
form,section{background:#fff;border-radius:10px;padding:16px;margin-bottom:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
label{display:block;font-weight:600;margin:.6rem 0 .3rem}
input[type=text]{box-sizing:border-box;width:100%;font-size:1.1rem;padding:.6rem;border:1px solid #bbb;border-radius:6px}
button{margin-top:1rem;width:100%;font-size:1.1rem;padding:.7rem;border:0;border-radius:6px;background:#d9363e;color:#fff}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.45rem .3rem;border-bottom:1px solid #eee;vertical-align:top}
th{width:7.5em;color:#555;font-weight:600}
.msg{padding:12px;border-radius:8px;margin-bottom:16px}
.miss{background:#fff6e0}.refused,.busy{background:#fde8e8}
small,.note{color:#666;font-size:.9rem}
ul{padding-left:1.2rem;margin:.3rem 0}
"""


def _key() -> bytes:
    return db.app(_con()).secret(CSRF_KEY)


def _con():
    return web.con()  # the process's one connection, shared with the app's pages


def csrf_token(key: bytes, nonce: str, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    return f"{at}.{hmac.new(key, f'{nonce}|{at}'.encode(), hashlib.sha256).hexdigest()}"


def csrf_ok(key: bytes, nonce: str | None, token: str | None, now: float | None = None) -> bool:
    if not nonce or not token or "." not in token:
        return False
    at, _, _ = token.partition(".")
    if not at.isdigit() or abs((now or time.time()) - int(at)) > CSRF_MAX_AGE:
        return False
    return hmac.compare_digest(csrf_token(key, nonce, int(at)), token)


def client_of(request: Request) -> str | None:
    """The browser's address (web/clients.py): the socket's peer, or behind our reverse proxies the entry
    they added."""
    return clients.address(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))


def _page(body: str) -> str:
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>考生成绩查询 · 1+X 数字营销技术应用</title>"
            f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _form(token: str, ticket: str = "") -> str:
    return ("<form method=\"post\" action=\"/lookup\" autocomplete=\"off\">"
            f"<input type=\"hidden\" name=\"csrf\" value=\"{_e(token)}\">"
            "<label for=\"ticket\">准考证号</label>"
            f"<input type=\"text\" id=\"ticket\" name=\"ticket\" maxlength=\"32\" inputmode=\"numeric\" value=\"{_e(ticket)}\" required>"
            "<label for=\"id_number\">身份证号（18 位）</label>"
            "<input type=\"text\" id=\"id_number\" name=\"id_number\" maxlength=\"24\" required>"
            "<small>末位为 X 的可输入大写或小写 x。</small>"
            "<button type=\"submit\">查询</button></form>")


def _info(info: view.Info) -> str:
    windows = "".join(f"<li>{_e(line)}</li>" for line in info.windows)
    contact = f"<p class=\"note\">{_e(info.contact)}</p>" if info.contact else ""
    return f"<section><strong>各批次可查询的日期</strong><ul>{windows}</ul>{contact}</section>"


def _result(answer: view.Answer) -> str:
    if answer.kind != "ok":
        return f"<div class=\"msg {answer.kind}\" role=\"alert\">{_e(answer.message)}</div>"
    parts = []
    for rows in answer.results:
        cells = "".join(f"<tr><th>{_e(label)}</th><td>{_e(text)}</td></tr>" for label, text in rows)
        parts.append(f"<section><table>{cells}</table></section>")
    parts += [f"<p class=\"note\">{_e(n)}</p>" for n in answer.notes]
    return "".join(parts)


def _respond(content: str, nonce: str, request: Request, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(content, status_code=status, headers=HEADERS)
    secure = cookies.https(request.scope)
    response.set_cookie(COOKIE, nonce, path=PATH, httponly=True, samesite="strict", secure=secure)
    return response


def _get(request: Request) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    con = _con()
    body = ("<h1>考生成绩查询</h1><p class=\"note\">输入准考证号和 18 位身份证号，查询本人的成绩、合格情况、"
            "成绩复核结果与证书状态。</p>" + _form(csrf_token(_key(), nonce)) + _info(view.info(con)))
    return _respond(_page(body), nonce, request)


def _post(request: Request, form) -> HTMLResponse:
    con = _con()
    ticket, id_number = (str(form.get(k) or "")[:MAX_FIELD] for k in ("ticket", "id_number"))
    key = _key()
    nonce = secrets.token_urlsafe(24)
    if not csrf_ok(key, request.cookies.get(COOKIE), str(form.get("csrf") or "")):
        body = ("<h1>考生成绩查询</h1><div class=\"msg refused\" role=\"alert\">页面已过期，请重新输入后查询。</div>"
                + _form(csrf_token(key, nonce), ticket))
        return _respond(_page(body), nonce, request, status=403)
    answer = view.answer(con, ticket, id_number, client_of(request))
    again = "<h2 style=\"font-size:1.1rem\">再次查询</h2>" + _form(csrf_token(key, nonce))
    body = "<h1>查询结果</h1>" + _result(answer) + again + _info(view.info(con))
    return _respond(_page(body), nonce, request)


async def form_fields(request: Request) -> dict[str, str] | None:
    """The posted form's fields (application/x-www-form-urlencoded, at most MAX_BODY bytes), or None."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=8, keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


async def endpoint(request: Request) -> HTMLResponse:
    """Answered on the event loop when nothing has to be read from the lake (about a millisecond: the
    thread pool's hand-off would cost a third of that again); otherwise on the thread pool, so a read of
    the lake's state or a new index never holds up the loop that serves every session's websocket."""
    try:
        if request.method == "POST":
            try:
                form = await form_fields(request)
            except ValueError:  # more fields than a form has
                form = None
            if form is None:
                return HTMLResponse(_page("<h1>考生成绩查询</h1><div class=\"msg refused\">请从查询页面提交。</div>"),
                                    status_code=400, headers=HEADERS)
            work = functools.partial(_post, request, form)
        else:
            work = functools.partial(_get, request)
        con = web.open_connection()  # opening it (the first request) is work for the thread pool
        return work() if con is not None and lookup.ready(con) else await run_in_threadpool(work)
    except Exception as exc:  # the visitor gets a short message with an id; details in the server's log
        error_id = uuid.uuid4().hex[:10]
        _LOG.error("成绩查询出错，错误编号 %s", error_id, exc_info=exc)
        return HTMLResponse(_page(f"<h1>考生成绩查询</h1><div class=\"msg busy\">系统繁忙，请稍后再试（错误编号 {error_id}）。"
                                  "</div>"), status_code=503, headers=HEADERS)


routes = [Route(PATH, endpoint, methods=["GET", "POST"])]
