"""What a booking costs: the site's hourly rate for the holder's member category."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from server.site import SiteConfig


def price(site: SiteConfig, category: str, start: datetime, end: datetime) -> Decimal:
    """The site's hourly rate for the member category times the hours, to 0.01."""
    rate = Decimal(str(site.rates.get(category, 0)))  # type: ignore[call-overload]
    hours = Decimal(int((end - start).total_seconds())) / Decimal(3600)
    return (rate * hours).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
