"""The staff app's login: a plain form at /login, a session cookie, /logout, and the pause after failures.

The cookie holds only a random token (HttpOnly, SameSite=Strict, Secure when configured); the account
behind it lives in `Sessions` on the server.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass

import fastapi
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.requests import HTTPConnection

from ui.accounts import AccountError, Accounts
from ui.sessions import LoginThrottle, Sessions

log = logging.getLogger(__name__)
COOKIE = "gocluster_staff"
MAX_FIELD_CHARS = 1_024

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>go-cluster FAQ – Anmeldung / Sign in</title>
<style>
body {{ font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; margin: 0; padding: 1rem;
       display: flex; justify-content: center; }}
form {{ width: 100%; max-width: 22rem; display: flex; flex-direction: column; gap: .6rem; margin-top: 10vh; }}
input, button {{ font: inherit; padding: .55rem; box-sizing: border-box; width: 100%; }}
button {{ cursor: pointer; }}
p.error {{ color: #b91c1c; margin: 0; }}
</style></head>
<body><form method="post" action="/login">
<h1>go-cluster FAQ – intern</h1>
<p>Anmeldung für die Programmgeschäftsstelle / Staff sign-in</p>
{message}
<label for="name">Name</label>
<input id="name" name="username" autocomplete="username" required maxlength="64" autofocus>
<label for="password">Passwort / Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit" id="login-submit">Anmelden / Sign in</button>
</form></body></html>
"""


def login_page(message: str = "", status: int = 200) -> HTMLResponse:
    line = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    return HTMLResponse(PAGE.format(message=line), status_code=status,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


@dataclass
class Login:
    """Checks logins and knows who is logged in; `user_of` is what `LoginRequired` calls."""

    accounts: Accounts
    sessions: Sessions
    throttle: LoginThrottle
    secure_cookie: bool = False

    def user_of(self, connection: HTTPConnection) -> str | None:
        user = self.sessions.user(connection.cookies.get(COOKIE))
        try:
            still_there = user is not None and self.accounts.exists(user)
        except AccountError:
            log.exception("staff account file unreadable")
            return None
        if user is not None and not still_there:  # removed with `staff-user remove`: logged out now
            self.sessions.end_user(user)
            return None
        return user

    def add_routes(self, app: fastapi.FastAPI) -> None:
        app.add_api_route("/login", self.form, methods=["GET"], include_in_schema=False)
        app.add_api_route("/login", self.submit, methods=["POST"], include_in_schema=False)
        app.add_api_route("/logout", self.logout, methods=["GET", "POST"], include_in_schema=False)

    async def form(self) -> HTMLResponse:
        return login_page()

    async def submit(self, request: fastapi.Request) -> fastapi.Response:
        form = await request.form(max_files=0, max_fields=4)
        name, password = str(form.get("username") or ""), str(form.get("password") or "")
        if not name or not password or len(name) > MAX_FIELD_CHARS or len(password) > MAX_FIELD_CHARS:
            return login_page("Bitte Name und Passwort eingeben. / Please enter name and password.", 400)
        keys = (f"user:{name.lower()}", f"client:{request.client.host if request.client else '-'}")
        wait = self.throttle.wait_s(*keys)
        if wait > 0:
            seconds = math.ceil(wait)
            return login_page(f"Zu viele Fehlversuche: bitte in {seconds} s erneut versuchen. / Too many failed"
                              f" logins: please try again in {seconds} s.", 429)
        try:
            valid = self.accounts.verify(name, password)
        except AccountError:
            log.exception("staff account file unreadable")
            return login_page("Die Anmeldung ist gerade nicht möglich. / Signing in is not possible now.", 503)
        if not valid:
            self.throttle.failed(*keys)
            log.warning("staff login failed")  # neither the name nor the address: no personal data in logs
            return login_page("Name oder Passwort falsch. / Wrong name or password.", 401)
        self.throttle.succeeded(*keys)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, self.sessions.create(name), max_age=int(self.sessions.lifetime_s),
                            httponly=True, samesite="strict", secure=self.secure_cookie, path="/")
        return response

    async def logout(self, request: fastapi.Request) -> fastapi.Response:
        self.sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
