"""Static assets travel compressed; pages do not (BREACH)."""

import gzip

from flask.testing import FlaskClient

HTMX = "/static/vendor/htmx-2.0.11/htmx.min.js"


def test_static_script_is_sent_gzipped_to_browsers_that_accept_it(client: FlaskClient) -> None:
    """htmx reaches a phone gzipped, with a length, and unzips to the file on disk."""
    with client.get(HTMX, headers={"Accept-Encoding": "gzip, deflate"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.get_data()
        assert int(response.headers["Content-Length"]) == len(body) < 25_000
    with client.get(HTMX) as plain:
        assert gzip.decompress(body) == plain.get_data()


def test_compressed_static_file_answers_not_modified_on_revalidation(client: FlaskClient) -> None:
    """A phone revalidating its cached stylesheet gets 304 and no body."""
    headers = {"Accept-Encoding": "gzip"}
    with client.get("/static/css/app.css", headers=headers) as first:
        etag = first.headers["ETag"]
    with client.get("/static/css/app.css", headers={**headers, "If-None-Match": etag}) as again:
        assert again.status_code == 304
        assert again.get_data() == b""


def test_pages_are_not_compressed(client: FlaskClient) -> None:
    """The login page (it carries a CSRF token) is sent uncompressed."""
    response = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_uncompressed_when_the_client_does_not_ask(client: FlaskClient) -> None:
    """A client that accepts no encoding gets the plain file."""
    with client.get(HTMX, headers={"Accept-Encoding": "identity"}) as response:
        assert "Content-Encoding" not in response.headers
        assert response.get_data().startswith(b"var htmx")
