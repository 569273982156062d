"""The site's own certificate authority and the broker's TLS certificate (`cryptography`).

The CA signs only the broker's certificate; devices, the gateway and the server trust it
through `ca_file` and check the broker's name against the certificate's SANs
(`localhost`, `127.0.0.1`, `::1` and every `--host`). Keys are ECDSA P-256.

>>> ca = new_ca("piaseczno")  # doctest: +SKIP
>>> broker = issue_broker_cert(ca, new_key(), ["broker.example.org"])  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol.messages import utcnow

CA_DAYS = 10 * 365
BROKER_DAYS = 2 * 365
RENEW_BEFORE = timedelta(days=30)  # a broker certificate this close to its end is renewed
ALWAYS = ("localhost", "127.0.0.1", "::1")  # names every broker certificate carries

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Authority:
    key: Key
    cert: x509.Certificate


def new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def new_ca(site: str, now: datetime | None = None) -> Authority:
    """A self-signed CA for `site`, allowed to sign server certificates only."""
    key = new_key()
    now = now or utcnow()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"spacehub {site} CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        _builder(name, name, key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, cert)


def issue_broker_cert(
    ca: Authority, key: Key, hosts: list[str], now: datetime | None = None
) -> x509.Certificate:
    """The broker's certificate for `key`, signed by `ca`, naming `hosts` and ALWAYS."""
    now = now or utcnow()
    names = list(dict.fromkeys([*hosts, *ALWAYS]))  # the first --host is the common name
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        _builder(subject, ca.cert.subject, key.public_key(), now, BROKER_DAYS)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca.key, hashes.SHA256())
    )


def broker_cert_fits(
    cert: x509.Certificate, ca: Authority, key: Key, hosts: list[str], now: datetime | None = None
) -> bool:
    """Whether an existing broker certificate can stay: signed by `ca`, for `key`, naming
    exactly the wanted hosts, and not about to expire."""
    now = now or utcnow()
    try:
        cert.verify_directly_issued_by(ca.cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    same_key = cert.public_key().public_bytes(*_SPKI) == key.public_key().public_bytes(*_SPKI)
    wanted = {str(_general_name(h).value) for h in set(hosts) | set(ALWAYS)}
    named = {str(name.value) for name in san}
    return same_key and named == wanted and cert.not_valid_after_utc - now > RENEW_BEFORE


def key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_key(data: bytes) -> Key:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC private key")
    return key


def load_cert(data: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(data)


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: object, now: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # a client clock a little behind
        .not_valid_after(now + timedelta(days=days))
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
