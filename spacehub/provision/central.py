"""The central broker's folder (`--bridge-to`), shared by every site bridged to it.

Each site's run writes its own users there (its servers', Home Assistant's and its
bridge's: usernames `{site}.…`) and keeps the other sites' lines of `passwd` and `acl`,
so that one central Mosquitto takes every site's bridge and servers:

    spacehub provision --site-config piaseczno.toml --out sites/piaseczno \\
        --bridge-to hub.example.org:8883 --central central
    spacehub provision --site-config konstancin.toml --out sites/konstancin \\
        --bridge-to hub.example.org:8883 --central central

Its certificate comes from a CA of its own (`ca.crt`, `ca.key` there), which the sites'
bridges and the servers trust: made by the first run, kept by the others, `--rotate`
included (a site's rotation must not cut the other sites' bridges off). The certificate
names every host a site's run gave `--bridge-to`.
"""

from __future__ import annotations

from cryptography import x509

from server.site import SiteConfig
from spacehub.provision.acl import Account, acl_blocks
from spacehub.provision.passwd import passwd_text

CA_NAME = "central"  # the common name of the central broker's CA: "spacehub central CA"

HEADER = [
    "# The central broker's users, written by `spacehub provision --bridge-to`: each site's",
    "# run writes its own users (`{site}.…`) and keeps the other sites'. What a user may",
    "# publish (write) and receive (read).",
]


def site_of(username: str) -> str:
    """The site a username is of: every account's username starts `{site}.` (acl.py), and
    a site id has no dot."""
    return username.split(".", 1)[0]


def passwd(site: SiteConfig, logins: dict[str, str], previous: dict[str, str]) -> str:
    """The central `passwd`: this site's `logins` (username -> password; a hash kept when
    it still matches) and the other sites' lines of `previous` (username -> hash), in the
    order of their sites."""
    others = [f"{user}:{hashed}" for user, hashed in previous.items() if site_of(user) != site.id]
    lines = passwd_text(logins, previous).splitlines() + others
    return "\n".join(sorted(lines, key=site_of)) + "\n"


def acl(site: SiteConfig, users: list[Account], previous: str) -> str:
    """The central `acl_file`: this site's users' blocks and the other sites' blocks of
    `previous` (the file as it was), in the order of their sites."""
    blocks = [(site.id, block) for block in acl_blocks(site, users)]
    for block in previous.split("\n\n"):
        user = next((line[5:] for line in block.splitlines() if line.startswith("user ")), None)
        if user is not None and site_of(user) != site.id:
            blocks.append((site_of(user), block.strip("\n")))
    ordered = [block for _, block in sorted(blocks, key=lambda pair: pair[0])]
    return "\n\n".join(["\n".join(HEADER), *ordered]) + "\n"


def hosts(cert: x509.Certificate | None, host: str) -> list[str]:
    """The names the central broker's certificate must carry: `host` (this run's) and
    those the certificate already names (other sites' runs')."""
    if cert is None:
        return [host]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [host]
    return list(dict.fromkeys([host, *(str(name.value) for name in san)]))
