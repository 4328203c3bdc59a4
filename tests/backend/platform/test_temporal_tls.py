"""Connecting to a secured Temporal: TLS with a private CA and a client certificate (mutual TLS), an API key.

The dev server speaks plaintext only, so a TLS terminator on loopback stands in front of it, the way an
ingress or Temporal Cloud's frontend does: it requires a client certificate signed by our test CA and
forwards the decrypted gRPC stream to the dev server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from temporalio.service import TLSConfig

from backend.config import Settings
from backend.core.temporal import connect, tls_config


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_pair(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{stem}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _issue(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None, common_name: str, *, server: bool = False
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    issuer_name, signing_key = (ca[0].subject, ca[1]) if ca else (_name(common_name), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca is None, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    return builder.sign(signing_key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private CA, a server certificate for temporal.test and a client certificate, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    ca = _issue(None, "Liuguan test CA")
    _write_pair(folder, "ca", *ca)
    _write_pair(folder, "server", *_issue(ca, "temporal.test", server=True))
    _write_pair(folder, "client", *_issue(ca, "liuguan-worker"))
    return folder


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def tls_frontend(pki: Path, temporal_address: str) -> AsyncIterator[tuple[str, list[str]]]:
    """A mutual-TLS terminator on a free loopback port in front of the dev server; yields its address and
    the common names of the client certificates it accepted."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=pki / "ca.pem")
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    upstream_host, upstream_port = temporal_address.rsplit(":", 1)
    clients: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peercert") or {}
        clients.extend(value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName")
        up_reader, up_writer = await asyncio.open_connection(upstream_host, int(upstream_port))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}", clients
    server.close()


def _secured(settings: Settings, address: str, pki: Path, **changes: object) -> Settings:
    return settings.model_copy(
        update={
            "temporal_address": address,
            "temporal_tls_ca_file": pki / "ca.pem",
            "temporal_tls_cert_file": pki / "client.pem",
            "temporal_tls_key_file": pki / "client.key",
            "temporal_tls_server_name": "temporal.test",
            **changes,
        }
    )


async def test_the_worker_connects_over_mutual_tls_with_a_private_ca(
    settings: Settings, pki: Path, tls_frontend: tuple[str, list[str]]
) -> None:
    address, accepted = tls_frontend
    client = await connect(_secured(settings, address, pki))
    assert await client.service_client.check_health()
    assert "liuguan-worker" in accepted


async def test_without_the_client_certificate_the_secured_frontend_refuses(
    settings: Settings, pki: Path, tls_frontend: tuple[str, list[str]]
) -> None:
    address, _ = tls_frontend
    anonymous = _secured(settings, address, pki, temporal_tls_cert_file=None, temporal_tls_key_file=None)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect(anonymous), 10)


def test_an_api_key_turns_tls_on_with_the_system_certificates(settings: Settings) -> None:
    cloud = settings.model_copy(update={"temporal_api_key": "key-from-temporal-cloud"})
    assert tls_config(cloud) is True
    assert tls_config(settings) is False


def test_a_private_ca_and_server_name_build_a_tls_config(settings: Settings, pki: Path) -> None:
    config = tls_config(_secured(settings, "temporal.internal:7233", pki))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == (pki / "ca.pem").read_bytes()
    assert config.domain == "temporal.test"


def test_a_certificate_without_its_key_is_refused_at_start(pki: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(temporal_tls_cert_file=pki / "client.pem")
    with pytest.raises(ValidationError, match="not a readable file"):
        Settings(temporal_tls_ca_file=pki / "missing.pem")
