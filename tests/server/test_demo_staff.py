"""The demo's receptionist: an account whose password is kept beside the demo database, the
same across restarts (the banner prints it: tests/test_demo.py)."""

from __future__ import annotations

import stat
from pathlib import Path

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
