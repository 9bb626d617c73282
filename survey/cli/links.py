"""The addresses a server started by ``survey serve`` or ``survey demo`` actually answers on,
printed as links and as a QR code a phone can scan (the public form's page, never a code)."""

from __future__ import annotations

import io
import socket
import sys

import click
import segno

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
EVERYWHERE = frozenset({"0.0.0.0", "::", ""})  # noqa: S104  (what the host option may say)


def lan_address() -> str | None:
    """This machine's address on its network (the route a UDP socket would take; nothing is
    sent), for a phone on the same network; None when there is none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, never contacted
            address: str = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def served_base(host: str, port: int) -> str:
    """``http://HOST:PORT`` as a browser reaches the server: listening everywhere, by this
    machine's network address (else 127.0.0.1)."""
    shown = host
    if host in EVERYWHERE:
        shown = lan_address() or "127.0.0.1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def qr_text(url: str) -> str:
    """A QR code of ``url`` drawn with block characters, for a terminal."""
    out = io.StringIO()
    segno.make_qr(url, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def print_links(host: str, port: int, which: str = "both", qr: bool = True) -> str:
    """Print where the public form and the office are served; returns the base address."""
    base = served_base(host, port)
    if which in ("both", "collector"):
        click.echo(f"回答画面 / public form: {base}/")
    if which in ("both", "office"):
        click.echo(f"事務局 / office: {base}/office/")
        if host not in LOOPBACK:
            click.echo(
                "（事務局へのログインは https:// か、このコンピューターの http://localhost"
                f":{port}/office/ でのみできます / the office login needs HTTPS, or "
                f"http://localhost:{port}/office/ on this machine）"
            )
    if qr and which in ("both", "collector"):
        click.echo(f"回答画面の QR コード / QR code of the public form ({base}/):")
        click.echo(qr_text(f"{base}/"), nl=False)
    sys.stdout.flush()  # before the server's own lines, even when the output is a pipe
    return base
