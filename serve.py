"""The app as served: app.py behind Streamlit's ASGI server, with the session cookie middleware and the
candidates' result lookup as a plain HTTP page (/lookup: no Streamlit session per visitor).

`streamlit run serve.py` (what `make run` does) finds `app` below and serves app.py with it; every
streamlit option (--server.port, …) works as usual. Running app.py directly still works, but then a
reload or a new tab asks for the login again (there is no session cookie) and /lookup is not served.
"""

import streamlit as st
from starlette.middleware import Middleware

from examdash.web import lookup_route, tcp
from examdash.web.cookies import SessionCookie

tcp.install()  # kept-alive responses without the 40 ms delayed-ACK wait (examdash/web/tcp.py)
app = st.App("app.py", routes=lookup_route.routes, middleware=[Middleware(SessionCookie)])
