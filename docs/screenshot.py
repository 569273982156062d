"""Take docs/dashboard.png: run `spacehub demo` on free ports, sign in with headless
Chromium, let the demo's traffic move for a while, and save the whole dashboard.

    .venv/bin/python docs/screenshot.py [--wait 20] [--lang pl] [--no-stir]

`--stir` (the default) also sends a few real protocol messages through the demo's broker
before the picture, so it shows something even without traffic: the demo's cards tapped
at the entrance (as `spacehub tap` does), three people through the entrance counter, and
motion in Sala A and the coworking zone. The server handles them as it would any.

Needs Debian's /usr/bin/chromium and the playwright package (the `dev` extra)."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from protocol import topics
from protocol.messages import Count, Motion, Tap, new_id, utcnow
from protocol.mqtt import MqttClient
from spacehub.broker import free_port
from spacehub.demo import DEMO_MEMBERS

SITE = "piaseczno"

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the demo did not answer at {url}") from None
            time.sleep(0.2)


def stir(broker_url: str) -> None:
    """Taps at the entrance, a count and some motion, as the devices would send them."""
    client = MqttClient(broker_url, client_id=f"screenshot-{new_id()[:8]}")
    client.start()
    try:
        if not client.wait_connected(10):
            raise SystemExit(f"could not reach the demo's broker at {broker_url}")
        messages = [
            (topics.tap(SITE, "reader-main"), Tap(id=new_id(), ts=utcnow(), card=m.card))
            for m in DEMO_MEMBERS
        ]
        messages += [
            (topics.count(SITE, "counter-main"), Count(id=new_id(), ts=utcnow(), entered=3)),
            (topics.motion(SITE, "pir-sala-a"), Motion(id=new_id(), ts=utcnow(), motion=True)),
            (topics.motion(SITE, "pir-cowork"), Motion(id=new_id(), ts=utcnow(), motion=True)),
        ]
        for topic, message in messages:
            client.publish(topic, message).wait_for_publish(5)
            time.sleep(0.3)
    finally:
        client.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=20.0, help="seconds of demo traffic first")
    parser.add_argument("--lang", choices=["pl", "en", "uk"], default="pl")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    parser.add_argument("--stir", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    token = secrets.token_urlsafe(24)
    http_port, mqtt_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spacehub.cli",
                "demo",
                "--http-port",
                str(http_port),
                "--mqtt-port",
                str(mqtt_port),
                "--data-dir",
                data_dir,
                "--traffic",
            ],
            cwd=ROOT,
            env={**os.environ, "SPACEHUB_ADMIN_TOKEN": token},
            stdout=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{http_port}"
            _wait_http(f"{base}/healthz", 30)
            time.sleep(args.wait)
            if args.stir:
                stir(f"mqtt://127.0.0.1:{mqtt_port}")
                time.sleep(1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                page = browser.new_page(viewport={"width": args.width, "height": 900})
                page.goto(f"{base}/login?token={token}&lang={args.lang}")
                page.wait_for_selector('#live-status[data-state="on"]', timeout=10_000)
                page.wait_for_timeout(1000)  # the first refresh after the snapshot
                page.screenshot(path=str(args.out), full_page=True)
                page.close()  # closes its event stream, so the demo stops promptly
                browser.close()
        finally:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(15)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
