"""The fetcher's TLS to a pinned address: the certificate is still checked against the link's host name."""

from __future__ import annotations

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inpaint.services import fetcher
from inpaint.services.fetcher import FetchFailed, url_fetch
from tests.services.fetcher_helpers import limits, resolver, serve  # noqa: F401 (fixtures)


def certificate(name: str, issuer_key, issuer_name, *, key=None, ca: bool = False):
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def tls_server(serve, tmp_path, monkeypatch):  # noqa: F811
    """start(certificate name) -> a local HTTPS server whose certificate a test CA signed for that name."""
    ca_key, ca_cert = certificate("Test CA", None, None, ca=True)
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setattr(fetcher.certifi, "where", lambda: str(tmp_path / "ca.pem"))

    def start(name: str):
        key, cert = certificate(name, ca_key, ca_cert.subject)
        (tmp_path / "leaf.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        server = serve()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "leaf.pem")
        server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
        return server

    return start


def test_https_to_the_pinned_address_verifies_the_certificate_of_the_name(tls_server, resolver):  # noqa: F811
    server = tls_server("results.test")
    table, asked = resolver
    table["results.test"] = ["127.0.0.1"]
    assert url_fetch(f"https://results.test:{server.port}/r.png", limits("results.test")) == b"picture"
    assert asked == ["results.test"]


def test_a_certificate_for_another_name_is_refused(tls_server, resolver):  # noqa: F811
    server = tls_server("someone-else.test")
    table, _ = resolver
    table["results.test"] = ["127.0.0.1"]
    with pytest.raises(FetchFailed):
        url_fetch(f"https://results.test:{server.port}/r.png", limits("results.test"))
    assert server.paths == []
