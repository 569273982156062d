"""Everything one server process holds, built once from its Settings and passed around."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from protocol.messages import utcnow
from server.access.service import AccessService, Clock
from server.access.snapshot import PolicyCache
from server.db.engine import make_engine, make_sessions, migrate
from server.db.inventory import sync_site
from server.db.leader import Lead, jobs_lock
from server.db.meta import ensure_meta
from server.live.events import EventBus
from server.monitoring.metrics import Metrics
from server.notify.links import link_key
from server.notify.mails import SETUP, MailSetup
from server.settings import Settings
from server.site import SiteConfig, load_site


@dataclass
class ServerContext:
    settings: Settings
    site: SiteConfig
    engine: Engine
    reads: sessionmaker[Session]
    writes: sessionmaker[Session]
    card_key: str
    policy: PolicyCache
    access: AccessService
    clock: Clock
    events: EventBus = field(default_factory=EventBus)
    metrics: Metrics = field(default_factory=Metrics)
    # Whether this replica runs the site's periodic jobs and keeps the doors' retained
    # commands (the one holding the site's advisory lock on PostgreSQL; always on SQLite).
    lead: Lead = field(init=False)

    def __post_init__(self) -> None:
        self.lead = Lead(self.engine, jobs_lock(self.site.id))

    @classmethod
    def create(
        cls, settings: Settings, *, clock: Clock = utcnow, site: SiteConfig | None = None
    ) -> ServerContext:
        """Load the site (unless given), migrate the database and bring its inventory in
        line (server.db.inventory.InventoryConflict when another site holds its ids)."""
        site = site or load_site(settings.site_config)
        engine = make_engine(settings.database_url)
        writes = make_sessions(engine, writer=True)
        try:
            migrate(engine)
            with writes() as session, session.begin():
                ensure_meta(session)
                sync_site(session, site)
        except Exception:
            engine.dispose()
            raise
        card_key = settings.resolve_card_key()
        # what the mail domain needs besides the database, given with every writer session
        mail = MailSetup(
            site=site,
            public_url=settings.public_url,
            mail_from=settings.mail_from,
            link_key=link_key(card_key),
        )
        writes.configure(info={SETUP: mail})
        policy = PolicyCache(site)
        events = EventBus()
        reads = make_sessions(engine)
        return cls(
            settings=settings,
            site=site,
            engine=engine,
            reads=reads,
            writes=writes,
            card_key=card_key,
            policy=policy,
            access=AccessService(site, writes, policy, card_key, clock, reads, events),
            clock=clock,
            events=events,
        )

    def close(self) -> None:
        self.access.after.stop()
        self.lead.release()
        self.engine.dispose()
