"""Words of e-mails to members and staff in Polish (server.notify.texts.mail), and of
the pages their links open, the reception's mail list and the demo's mailbox.

The keys and placeholders are those of the other languages' mail tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- the mails (server.notify.mails)
    "mail.greeting": "Dzień dobry {name},",
    "mail.signature": "{site}\nTwoje rezerwacje: {portal}",
    "mail.confirmed.subject": "Rezerwacja: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.confirmed.body": (
        "Twoja rezerwacja jest potwierdzona: {room}, {start:%d.%m.%Y}, "
        "{start:%H:%M}–{end:%H:%M}. Załączony plik booking.ics doda ją do kalendarza."
    ),
    "mail.series.subject": "Rezerwacja: {room}, {count} tygodni od {start:%d.%m.%Y}",
    "mail.series.body": (
        "Twoja cotygodniowa rezerwacja jest potwierdzona: {room}, {start:%H:%M}–{end:%H:%M}, "
        "{count} razy od {start:%d.%m.%Y} do {last:%d.%m.%Y}. Załączony plik booking.ics "
        "doda wszystkie terminy do kalendarza."
    ),
    "mail.check_in": (
        "Zamelduj się, przykładając kartę do czytnika przy drzwiach sali w ciągu {grace} "
        "minut od początku, inaczej sala wróci do puli dla innych."
    ),
    "mail.cancel_hint": (
        "Nie możesz przyjść? Odwołaj jednym kliknięciem, żeby inni mogli skorzystać z sali:\n{link}"
    ),
    "mail.ics_removes": "Załączony plik booking.ics usunie ją z kalendarza.",
    "mail.cancelled.subject": "Odwołano: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.cancelled.body": (
        "Twoja rezerwacja sali {room} ({start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}) "
        "została odwołana."
    ),
    "mail.reminder.subject": "Przypomnienie: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.reminder.body": (
        "Przypominamy: Twoja rezerwacja sali {room} zaczyna się {start:%d.%m.%Y} "
        "o {start:%H:%M} (do {end:%H:%M})."
    ),
    "mail.offer.accept": "Przyjmij ją jednym kliknięciem, zanim oferta wygaśnie:\n{link}",
    "mail.subject.released": "Twoja rezerwacja została zwolniona — {site}",
    "mail.subject.released_by_staff": "Obsługa zwolniła Twoją rezerwację — {site}",
    "mail.subject.offer": "Sala jest wolna dla Ciebie — {site}",
    "mail.subject.booking_suspended": "Czasowa blokada rezerwacji — {site}",
    # -- the pages of the links in mail (server.portal.links)
    "link.when": "{room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}",
    "link.cancel.title": "Odwołanie rezerwacji",
    "link.cancel.ask": "Odwołać tę rezerwację? Sala od razu stanie się wolna dla innych.",
    "link.cancel.button": "Odwołaj rezerwację",
    "link.cancel.done": "Rezerwacja została odwołana. Dziękujemy za zwolnienie sali.",
    "link.cancel.gone": "Ta rezerwacja ma już status: {status}. Nie ma czego odwołać.",
    "link.accept.title": "Przyjęcie oferty",
    "link.accept.ask": "Sala czeka na Ciebie do {by:%H:%M}. Zarezerwować ją?",
    "link.accept.button": "Zarezerwuj salę",
    "link.accept.done": "Sala jest zarezerwowana. Potwierdzenie wysłaliśmy e-mailem.",
    "link.accept.gone": "Tej oferty nie można już przyjąć: została przyjęta albo wygasła.",
    "link.accept.taken": (
        "Niestety, ktoś w międzyczasie zarezerwował salę. Zostajesz na liście oczekujących."
    ),
    "link.accept.refused": "Nie możesz teraz rezerwować sal, więc oferta pozostaje otwarta.",
    "link.bad.title": "Ten link nie działa",
    "link.bad": (
        "Ten link jest nieprawidłowy. Otwórz link z wiadomości bez zmian albo zaloguj się, "
        "aby zobaczyć swoje rezerwacje."
    ),
    "link.expired": "Ten link wygasł.",
    "link.portal": "Moje rezerwacje",
    # -- the reception's list of mail (server.dashboard.reception.mail)
    "nav.mail": "E-mail",
    "mailq.title": "E-mail",
    "mailq.intro": (
        "Wszystkie wiadomości do członków i obsługi, od najnowszych, ze stanem. Czas: {zone}."
    ),
    "mailq.off": (
        "Wysyłanie jest wyłączone (brak SPACEHUB_SMTP_URL): poczta czeka tutaj niewysłana."
    ),
    "mailq.rows": "Wiadomości",
    "mailq.empty": "Żadna wiadomość nie pasuje do filtrów.",
    "mailq.state": "Stan",
    "mailq.state_any": "Dowolny stan",
    "mailq.state.pending": "czeka",
    "mailq.state.sent": "wysłana",
    "mailq.state.failed": "nieudana",
    "mailq.bad_state": "Wybierz stan z listy.",
    "mailq.created": "Dodana",
    "mailq.to": "Do",
    "mailq.subject": "Temat",
    "mailq.attempts": "Próby",
    "mailq.sent_at": "Wysłana",
    "mailq.error": "Ostatni błąd",
    # -- the demo's mailbox (spacehub demo: /demo/mail)
    "demomail.title": "Skrzynka demo",
    "demomail.intro": (
        "Każdy e-mail wysłany przez demo, odebrany przez jego własny serwer SMTP: otwórz "
        "wiadomość, aby skorzystać z jej linków."
    ),
    "demomail.empty": "Brak wiadomości. Poproś o link do logowania na stronie logowania.",
    "demomail.received": "Odebrano",
    "demomail.to": "Do",
    "demomail.subject": "Temat",
    "demomail.links": "Linki w tej wiadomości",
    "demomail.attachment": "Załącznik",
    "demomail.back": "Wszystkie wiadomości",
}
