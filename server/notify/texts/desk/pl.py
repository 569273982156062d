"""The reception desk's words, continued, in Polish (server.notify.texts.desk)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- a member's data (GDPR), administrators only
    "gdpr.title": "Dane osobowe (RODO)",
    "gdpr.intro": (
        "Tylko dla administratorów. Pobranie i usunięcie danych są zapisywane w dzienniku zmian."
    ),
    "gdpr.export": "Pobierz dane (JSON)",
    "gdpr.erase": "Usuń dane osobowe",
    "gdpr.erase_ask": "Usunąć dane osobowe: {name}?",
    "gdpr.erase_means": (
        "Imię i nazwisko zmieni się na #{id}; e-mail, dane opiekuna i zawieszenie zostaną "
        "wyczyszczone; karty zostaną usunięte (żadne drzwi ich nie otworzą); konta członka "
        "zostaną wyłączone; powiadomienia, wiadomości, oferty i miejsca na liście "
        "oczekujących zostaną usunięte; przyszłe rezerwacje zostaną anulowane. Wejścia, "
        "minione rezerwacje i nieobecności zostają tylko pod numerem członka."
    ),
    "gdpr.erase_final": "Tego nie można cofnąć.",
    "gdpr.erase_go": "Usuń dane osobowe na zawsze",
    "gdpr.erased_already": "Dane osobowe tego członka już usunięto.",
    "gdpr.back": "Wróć do strony członka",
    # -- a user's account (`/reception/accounts/{id}`)
    "useredit.edit": "Zmień",
    "useredit.title": "Konto: {name}",
    "useredit.back": "← Wszystkie konta",
    "useredit.details": "Dane konta",
    "useredit.member_hint": "Tylko dla roli „Członek”: numer członka, którym jest ta osoba.",
    "useredit.password": "Nowe hasło (opcjonalnie)",
    "useredit.password_hint": (
        "Zostaw puste, aby nie zmieniać. Co najmniej 10 znaków; osoba może też zalogować się "
        "linkiem wysłanym e-mailem."
    ),
    "useredit.access": "Dostęp",
    "useredit.disable_means": "Wyłączenie kończy od razu sesje i tokeny API tej osoby.",
    "useredit.enable": "Włącz",
    # -- adding someone to the waitlist (`/reception/waitlist`)
    "waitjoin.title": "Dopisz do listy oczekujących",
    "waitjoin.intro": (
        "Gdy sala zwolni się w tym czasie, osoba dostanie propozycję (e-mailem i w portalu)."
    ),
    "waitjoin.any_similar": "Także każda podobna sala (ten sam rodzaj, co najmniej tyle miejsc)",
    "waitjoin.go": "Dopisz do listy",
    "desk.wl.done.joined": "Dopisano do listy oczekujących.",
}
