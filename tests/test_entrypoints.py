"""The deployment entry points (gunicorn fanpin.wsgi, an ASGI server on fanpin.asgi) load the
app and answer a request: an anonymous visitor to the home page is sent to the login page."""

import asyncio
import io
import wsgiref.util

import pytest


@pytest.mark.django_db
def test_the_wsgi_application_serves_the_login_redirect():
    from fanpin.wsgi import application

    environ = {"PATH_INFO": "/", "HTTP_HOST": "testserver", "wsgi.input": io.BytesIO()}
    wsgiref.util.setup_testing_defaults(environ)
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, dict(headers)

    b"".join(application(environ, start_response))
    assert started["status"].startswith("302")
    assert started["headers"]["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)  # the view runs in asgiref's worker thread
def test_the_asgi_application_serves_the_login_page():
    from fanpin.asgi import application

    sent = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client stays connected until the response is sent

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/accounts/login/",
        "raw_path": b"/accounts/login/",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(application(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 200
    assert "登录".encode() in body
