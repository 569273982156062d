"""The community outcome: of the hours nobody came to, how many went back to the pool and
how many of those were used again, in total and by member category, summed from the
utilisation report (so the report and `spacehub simulate` count alike: `freed`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.reports.utilisation import CATEGORIES, Utilisation, load_utilisation
from server.site import SiteConfig


@dataclass(frozen=True)
class Hours:
    """No-show, released and reused hours, with the shares the outcome is judged by."""

    no_show: float = 0.0
    released: float = 0.0
    reused: float = 0.0
    booked: float = 0.0

    @property
    def released_share(self) -> float:
        """released / no-show; 0 when nobody failed to come."""
        return self.released / self.no_show if self.no_show else 0.0

    @property
    def reused_share(self) -> float:
        """reused / released; 0 when nothing was released."""
        return self.reused / self.released if self.released else 0.0

    def __add__(self, other: Hours) -> Hours:
        return Hours(
            self.no_show + other.no_show,
            self.released + other.released,
            self.reused + other.reused,
            self.booked + other.booked,
        )


@dataclass(frozen=True)
class Outcome:
    total: Hours
    by_category: dict[str, Hours]
    by_room: dict[str, Hours]


def outcome_of(report: Utilisation) -> Outcome:
    """The report's hours summed over its weeks: in total, by category and by room."""
    by_category = dict.fromkeys(CATEGORIES, Hours())
    by_room: dict[str, Hours] = {}
    for week in report.weeks:
        for room in week.rooms:
            for c in CATEGORIES:
                hours = Hours(room.no_show[c], room.released[c], room.reused[c], room.booked[c])
                by_category[c] += hours
                by_room[room.room_id] = by_room.get(room.room_id, Hours()) + hours
    total = sum(by_category.values(), Hours())
    return Outcome(total=total, by_category=by_category, by_room=by_room)


def load_outcome(
    session: Session, *, site: SiteConfig, first_day: date, last_day: date, now: datetime
) -> Outcome:
    """The outcome of the local days `[first_day, last_day]` as of `now`, from the database."""
    report = load_utilisation(session, site=site, first_day=first_day, last_day=last_day, now=now)
    return outcome_of(report)
