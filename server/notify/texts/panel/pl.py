"""Door panels' words (`/panel/...`) in Polish (server.notify.texts.panel),
and the reception desk's page of panel links (`panel.desk.*`).

The keys and placeholders are those of the other languages' panel tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "panel.title": "Panel sali",
    "panel.status.free": "Wolna",
    "panel.status.booked": "Zarezerwowana",
    "panel.status.in_use": "Zajęta",
    "panel.free_until": "Wolna do {time}",
    "panel.free_rest": "Dziś już bez rezerwacji",
    "panel.now": "Teraz",
    "panel.next": "Następna rezerwacja",
    "panel.none_next": "Brak kolejnych rezerwacji",
    "panel.untitled": "Rezerwacja",
    "panel.times": "{start}–{end}",
    "panel.day_times": "{day}, {start}–{end}",
    "panel.checked_in": "obecność potwierdzona",
    "panel.release": "Jeśli nikt nie przyłoży karty, rezerwacja zostanie zwolniona o {time}.",
    "panel.checkin_hint": "Przyłóż kartę do czytnika, aby potwierdzić obecność.",
    "panel.countdown": "Do zwolnienia:",
    "panel.minutes_left": "{minutes} min",
    "panel.clock": "{date}, godz. {time}",
    "panel.qr_title": "Zarezerwuj tę salę",
    "panel.qr_alt": "Kod QR: odnośnik do rezerwacji sali {room}",
    "panel.qr_hint": "Zeskanuj kod telefonem albo otwórz:",
    "panel.live.lost": "Brak połączenia z serwerem — ponawiam…",
    "panel.missing.title": "Nie ma takiego panelu",
    "panel.missing.text": (
        "Ten adres panelu jest nieprawidłowy albo nieaktualny. Poproś recepcję o nowy odnośnik."
    ),
    "panel.desk.title": "Panele przy drzwiach sal",
    "panel.desk.nav": "Panele",
    "panel.desk.intro": (
        "Otwórz odnośnik sali w przeglądarce tabletu przy jej drzwiach. Nowy klucz od "
        "razu unieważnia stary odnośnik: otwarte panele ze starym przestają działać."
    ),
    "panel.desk.room": "Sala",
    "panel.desk.link": "Odnośnik panelu",
    "panel.desk.action": "Klucz",
    "panel.desk.rotate": "Nowy klucz: {room}",
    "panel.desk.rotated": "Sala {room} ma nowy klucz panelu; stary odnośnik już nie działa.",
    "audit.action.room.panel_key": "Klucz panelu sali",
    "audit.action.room.calendar_keys": "Klucze kalendarza sali",
}
