"""The app as served: app.py behind Streamlit's ASGI server, with the session cookie middleware, the
sign-in page that sets the cookie (/signin) and the candidates' result lookup (/lookup), both plain HTTP
pages (no Streamlit session per visitor).

`streamlit run serve.py` (what `make run` does) finds `app` below and serves app.py with it; every
streamlit option (--server.port, …) works as usual. Running app.py directly still works, but then a
reload or a new tab asks for the login again (there is no session cookie) and /signin, /lookup are not served.
"""

import streamlit as st
from starlette.middleware import Middleware

from examdash.web import clients, lookup_route, signin_route, tcp
from examdash.web.cookies import SessionCookie

clients.install()  # the socket's peer is the browser unless EXAMDASH_TRUST_PROXY says otherwise (web/clients.py)
tcp.install()  # kept-alive responses without the 40 ms delayed-ACK wait (examdash/web/tcp.py)
app = st.App("app.py", routes=lookup_route.routes + signin_route.routes,
             middleware=[Middleware(SessionCookie, signed_in=signin_route.signed_in)])
