"""The demo's receptionist: an account whose password is kept beside the demo database, the
same across restarts, and printed in the banner."""

from __future__ import annotations

import stat
from pathlib import Path

from spacehub.banner import Running, banner
from spacehub.seed import STAFF_EMAIL, seed_staff, staff_password


def test_the_demo_staff_account_signs_in_with_the_kept_password(
    client, ctx, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    password = staff_password(tmp_path)
    assert staff_password(tmp_path) == password and len(password) >= 10
    assert stat.S_IMODE((tmp_path / "staff.password").stat().st_mode) == 0o600
    seed_staff(ctx, password=password)
    seed_staff(ctx, password=password)  # a restart: still one account
    signed_in = client.post("/api/auth/login", json={"email": STAFF_EMAIL, "password": password})
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["role"] == "staff"
    (tmp_path / "staff.password").unlink()
    renewed = staff_password(tmp_path)
    seed_staff(ctx, password=renewed)  # a lost file: the account takes the new password
    assert client.post(
        "/api/auth/login", json={"email": STAFF_EMAIL, "password": renewed}
    ).is_success


def test_the_banner_prints_the_staff_account(tmp_path: Path) -> None:
    run = Running(
        http_port=8080,
        broker_name="embedded",
        broker_url="mqtt://127.0.0.1:1883",
        token="tok",
        data_dir=tmp_path,
        earlier_data=False,
        staff=(STAFF_EMAIL, "s3cret-password"),
    )
    text = banner(run)
    assert f"{STAFF_EMAIL} / s3cret-password" in text
    assert "http://127.0.0.1:8080/login?token=tok" in text
