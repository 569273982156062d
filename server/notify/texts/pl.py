"""The texts in Polish, the default language: pages first, then notices to members.

The keys and placeholders are those of `en` and `uk` (server.notify.texts)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- pages: the staff dashboard
    "title": "Panel recepcji",
    "skip": "Przejdź do treści",
    "lang": "Język",
    "signin.title": "Logowanie do panelu recepcji",
    "signin.intro": "Wpisz token administratora, aby zobaczyć sale, drzwi i alerty.",
    "signin.token": "Token administratora",
    "signin.submit": "Zaloguj się",
    "signin.bad": "Ten token jest nieprawidłowy. Spróbuj ponownie.",
    "signin.disabled": "Serwer nie ma tokenu administratora (SPACEHUB_ADMIN_TOKEN).",
    "signout": "Wyloguj się",
    "live.on": "Na żywo",
    "live.connecting": "Łączenie…",
    "live.lost": "Brak połączenia – ponawiam…",
    "live.expired": "Sesja wygasła – zaloguj się ponownie.",
    "section.alerts": "Alerty",
    "section.rooms": "Sale",
    "section.feed": "Wejścia na żywo",
    "section.evacuation": "Ewakuacja",
    "section.devices": "Urządzenia",
    "state.free": "Wolna",
    "state.booked_waiting": "Zarezerwowana, czeka na gości",
    "state.in_use": "W użyciu",
    "state.in_use_unbooked": "W użyciu bez rezerwacji",
    "state.released": "Zwolniona",
    "state.over_capacity": "Przekroczona pojemność",
    "room.people": "Osoby",
    "room.people_of": "{people} z {capacity}",
    "room.no_counter": "brak licznika",
    "room.motion": "Ruch",
    "room.no_motion": "nie wykryto",
    "room.last_motion": "ostatnio {time}",
    "room.current": "Teraz",
    "room.next": "Następna",
    "room.none": "brak",
    "booking.booked": "zarezerwowana",
    "booking.checked_in": "goście na miejscu",
    "booking.walk_in": "bez rezerwacji z wyprzedzeniem",
    "door": "Drzwi",
    "door.mode": "Tryb drzwi",
    "door.reports": "drzwi zgłaszają: {mode}",
    "mode.normal": "normalny",
    "mode.locked": "blokada",
    "mode.unlocked": "otwarte (tryb przejścia)",
    "mode.public": "otwarte na wydarzenie publiczne",
    "action.unlock": "Otwórz zdalnie",
    "action.locked": "Zablokuj",
    "action.unlocked": "Tryb przejścia",
    "action.normal": "Tryb normalny",
    "action.cancel": "Anuluj rezerwację",
    "action.release": "Zwolnij salę teraz",
    "action.ack": "Potwierdź",
    "confirm.locked": "Zablokować drzwi „{door}”? Nikt nie wejdzie kartą.",
    "confirm.unlocked": "Otworzyć drzwi „{door}” na stałe (tryb przejścia)?",
    "confirm.cancel": "Anulować rezerwację „{title}”?",
    "confirm.release": "Zwolnić salę z rezerwacji „{title}”? Bez kary za nieobecność.",
    "done.unlock": "Wysłano polecenie otwarcia: {door}.",
    "done.mode": "Zmieniono tryb drzwi: {door}.",
    "done.cancel": "Rezerwacja anulowana.",
    "done.release": "Sala zwolniona.",
    "done.ack": "Alert potwierdzony.",
    "failed": "Nie udało się: {detail}",
    "feed.time": "Godzina",
    "feed.door": "Drzwi",
    "feed.who": "Kto",
    "feed.result": "Wynik",
    "feed.granted": "Wpuszczono",
    "feed.denied": "Odmowa",
    "feed.unknown": "nieznana karta",
    "feed.by_gateway": "decyzja bramki",
    "feed.by_expired": "brak odpowiedzi",
    "feed.empty": "Nikt jeszcze nie przyłożył karty.",
    "evac.in_building": "Osoby w budynku (licznik przy wejściu)",
    "evac.unknown": "brak danych z licznika",
    "evac.entered": "Weszli dziś (karta przy wejściu)",
    "evac.name": "Osoba",
    "evac.first": "Pierwsze wejście",
    "evac.last": "Ostatnie wejście",
    "evac.none": "Dziś nikt jeszcze nie wszedł kartą.",
    "evac.print": "Drukuj listę",
    "dev.device": "Urządzenie",
    "dev.kind": "Rodzaj",
    "dev.room": "Miejsce",
    "dev.state": "Stan",
    "dev.last_seen": "Ostatni sygnał",
    "dev.mode": "Tryb drzwi",
    "dev.mode_requested": "zadany: {mode}",
    "dev.mode_actual": "stosowany: {mode}",
    "dev.online": "działa",
    "dev.offline": "nie odpowiada",
    "dev.never": "nigdy",
    "kind.door": "czytnik drzwi",
    "kind.occupancy": "czujnik obecności",
    "alerts.none": "Brak otwartych alertów.",
    "alert.forced": "Drzwi otwarte siłą",
    "alert.held_open": "Drzwi otwarte zbyt długo",
    "alert.fire_release": "Alarm pożarowy – drzwi zwolnione",
    "alert.device_offline": "Urządzenie nie odpowiada",
    "alert.over_capacity": "Przekroczona pojemność sali",
    "alert.booked_empty": "Zarezerwowana sala wciąż pusta",
    "alert.tamper": "Naruszenie czytnika",
    "alert.too_many_attempts": "Karta zablokowana po zbyt wielu próbach",
    "alert.unknown_card_flood": "Lawina nieznanych kart przy czytniku",
    "alert.door_mode_mismatch": "Drzwi nie stosują zadanego trybu",
    "alert.modes": "zadany: {requested}, stosowany: {actual}",
    "health.lag": (
        "Serwer nie nadąża z obsługą drzwi: opóźnienie {lag} s. "
        "Drzwi mogą nie dostać odpowiedzi na czas."
    ),
    "health.dead": "Wiadomości od urządzeń, których nie udało się zapisać: {count}.",
    "health.link": "Zobacz listę",
    "reason.staff": "personel",
    "reason.membership": "członkostwo",
    "reason.booking": "rezerwacja",
    "reason.walk_in": "wolna sala zajęta kartą",
    "reason.unknown_card": "nieznana karta",
    "reason.card_revoked": "karta unieważniona",
    "reason.member_suspended": "konto zawieszone",
    "reason.outside_hours": "poza godzinami otwarcia",
    "reason.no_membership": "brak członkostwa",
    "reason.room_booked": "sala zarezerwowana przez kogoś innego",
    "reason.booking_released": "rezerwacja zwolniona",
    "reason.no_access": "brak uprawnień",
    "reason.unknown_door": "nieznane drzwi",
    "reason.locked_down": "blokada drzwi",
    "reason.too_many_attempts": "zbyt wiele prób",
    "reason.policy_stale": "nieaktualne uprawnienia bramki",
    # -- pages: the utilisation chart (`GET /api/reports/utilisation.svg`)
    "chart.title": "Wykorzystanie sal {first} – {last}",
    "chart.desc": (
        "Wykres słupkowy: dla każdej sali godziny zarezerwowane, wykorzystane według "
        "czujników i nieobecności (rezerwacje zwolnione, bo nikt nie przyszedł), "
        "{first} – {last}."
    ),
    "chart.booked": "Zarezerwowane",
    "chart.used": "Wykorzystane (czujniki)",
    "chart.no_show": "Nieobecności",
    "chart.unit": "h",
    "chart.decimal": ",",
    # -- pages: the reception desk's people (members, cards, memberships, strikes, privacy)
    "nav.label": "Sekcje",
    "nav.dashboard": "Pulpit",
    "nav.members": "Członkowie",
    "members.title": "Członkowie",
    "members.search": "Znajdź członka",
    "members.search_label": "Imię i nazwisko lub e-mail",
    "members.search_go": "Szukaj",
    "members.none": "Nie znaleziono członków.",
    "members.add": "Dodaj członka",
    "members.add_go": "Dodaj członka",
    "members.back": "← Wszyscy członkowie",
    "member.name": "Imię i nazwisko",
    "member.email": "E-mail",
    "member.category": "Kategoria",
    "member.lang": "Język wiadomości",
    "member.state": "Stan",
    "member.active": "Aktywny",
    "member.erased": "Dane usunięte",
    "member.suspended_until": "Zawieszony do {date}",
    "member.suspended_through": "Zawieszony do {date} włącznie",
    "member.booking": "Rezerwacja sal",
    "member.booking_ok": "Dozwolona",
    "member.booking_suspended": "Niedozwolona do {date} (nieobecności)",
    "member.edit": "Dane członka",
    "member.minor_legend": "Członkowie poniżej 18 lat",
    "member.minor": "Poniżej 18 lat (wymagana zgoda opiekuna)",
    "member.guardian_name": "Imię i nazwisko opiekuna",
    "member.guardian_consent_at": "Data zgody opiekuna",
    "member.suspension": "Zawieszenie (drzwi się nie otwierają)",
    "member.suspend_until": "Ostatni dzień zawieszenia",
    "member.suspend": "Zawieś",
    "member.unsuspend": "Cofnij zawieszenie",
    "category.resident": "Mieszkaniec",
    "category.ngo": "Organizacja pozarządowa",
    "category.business": "Firma",
    "category.staff": "Personel",
    "form.save": "Zapisz",
    "form.delete": "Usuń",
    "form.action": "Działanie",
    "cards.title": "Karty",
    "cards.label": "Opis karty",
    "cards.state": "Stan",
    "cards.since": "Dodana",
    "cards.active": "Aktywna",
    "cards.revoked": "Unieważniona {date}",
    "cards.no_label": "Karta {id}",
    "cards.none": "Brak kart.",
    "cards.revoke": "Unieważnij (zgubiona karta)",
    "cards.by_uid": "Dodaj kartę po numerze",
    "cards.uid": "Numer karty (UID, szesnastkowo)",
    "cards.enrol": "Dodaj kartę",
    "cards.by_tap": "Dodaj kartę, przykładając ją do czytnika",
    "tap.title": "Dodaj kartę przyłożoną do czytnika",
    "tap.back": "← Wróć do: {name}",
    "tap.choose": "Wybierz czytnik",
    "tap.reader": "Czytnik",
    "tap.wait": "Czekaj na kartę",
    "tap.at": "Czytnik: {reader}",
    "tap.waiting": (
        "Czekam na nową kartę przy czytniku: {reader}… Poproś członka, by ją teraz przyłożył."
    ),
    "tap.seen": "Karta przyłożona do czytnika: {reader} o {time}. Dodać ją dla: {name}?",
    "tap.enrol": "Dodaj kartę dla: {name}",
    "tap.check": "Sprawdź ponownie",
    "memberships.title": "Członkostwa",
    "memberships.hint": (
        "Daty są lokalne; członkostwo obowiązuje od pierwszego dnia do końca ostatniego."
    ),
    "memberships.one": "Członkostwo: {plan}",
    "memberships.plan": "Plan",
    "memberships.from": "Pierwszy dzień",
    "memberships.until": "Ostatni dzień",
    "memberships.none": "Brak członkostw.",
    "memberships.add": "Dodaj członkostwo",
    "memberships.add_go": "Dodaj członkostwo",
    "strikes.title": "Nieobecności i blokada rezerwacji",
    "strikes.when": "Kiedy",
    "strikes.booking": "Rezerwacja",
    "strikes.counts": "Liczy się",
    "strikes.removed": "Usunięta {date}",
    "strikes.remove": "Usuń nieobecność",
    "strikes.none": "Brak nieobecności.",
    "strikes.lift": "Pozwól znowu rezerwować",
    "error.invalid": "Tego nie przyjęto. Sprawdź formularz.",
    "error.status_404": "To już nie istnieje. Odśwież stronę.",
    "error.status_409": "To koliduje z tym, co już zapisano.",
    "error.card_uid": "Numer karty to od 8 do 20 cyfr szesnastkowych (0-9, A-F), pełne bajty.",
    "error.card_taken": "Ta karta jest już przypisana do członka.",
    "error.tap_gone": "To przyłożenie karty już wygasło: przyłóż kartę jeszcze raz.",
    "error.member_erased": "Dane tego członka usunięto: nie można nic dodać.",
    "error.guardian_needed": (
        "Członek poniżej 18 lat wymaga imienia i nazwiska opiekuna oraz daty zgody."
    ),
    "error.plan_unknown": "Wybierz jeden z planów tego miejsca.",
    "error.end_before_start": "Ostatni dzień nie może być przed pierwszym.",
    "error.date": "Podaj datę w formacie RRRR-MM-DD.",
    "error.field_name": "Podaj imię i nazwisko (do 200 znaków).",
    "error.field_email": "Podaj poprawny adres e-mail albo zostaw pole puste.",
    "error.field_category": "Wybierz kategorię.",
    "error.field_lang": "Wybierz język.",
    "error.field_minor": "Zaznacz pole albo zostaw je puste.",
    "error.field_guardian_name": "Podaj imię i nazwisko opiekuna (do 200 znaków).",
    "error.field_guardian_consent_at": "Podaj datę zgody opiekuna.",
    "privacy.link": "Prywatność: co zapisujemy i po co",
    "privacy.title": "Informacja o przetwarzaniu danych",
    "privacy.intro": (
        "{site} zapisuje niektóre dane osób korzystających z centrum. Tu opisujemy jakie, po "
        "co, jak długo i jakie masz prawa."
    ),
    "privacy.what_h": "Co zapisujemy",
    "privacy.what_taps": "Przyłożenia kart przy drzwiach: które drzwi, kiedy i czy się otworzyły.",
    "privacy.what_bookings": (
        "Rezerwacje sal: kto zarezerwował którą salę i kiedy oraz kto przyszedł."
    ),
    "privacy.what_counts": "Liczbę osób w każdej sali (tylko liczby i ruch, nigdy kto).",
    "privacy.what_member": (
        "Imię i nazwisko, e-mail, kategorię, język i członkostwa członków; dla osób poniżej "
        "18 lat imię i nazwisko opiekuna oraz datę zgody."
    ),
    "privacy.no_numbers": (
        "Nie przechowujemy numerów kart: tylko skrót każdej karty obliczony z tajnym kluczem,"
        " z którego nie da się odtworzyć numeru."
    ),
    "privacy.why_h": "Po co",
    "privacy.why_access": "Aby otwierać sale osobom, które mają do nich dostęp.",
    "privacy.why_release": (
        "Aby oddawać społeczności niewykorzystane rezerwacje (rezerwacja, na którą nikt nie "
        "przyszedł, jest zwalniana)."
    ),
    "privacy.why_safety": (
        "Dla bezpieczeństwa: aby wiedzieć, kto jest w budynku w razie zagrożenia."
    ),
    "privacy.how_long_h": "Jak długo",
    "privacy.how_long": (
        "Przyłożenia kart, zdarzenia drzwi i liczby osób w salach usuwamy po {days} dniach. "
        "Dane członków przechowujemy, dopóki są członkami, i usuwamy na żądanie."
    ),
    "privacy.ask_h": "Kogo pytać",
    "privacy.ask": "Napisz na adres:",
    "privacy.ask_desk": "Zapytaj w recepcji.",
    "privacy.rights_h": "Twoje prawa",
    "privacy.right_access": "Dostęp: możesz otrzymać kopię wszystkich danych, które o Tobie mamy.",
    "privacy.right_erasure": (
        "Usunięcie: możesz poprosić o usunięcie Twoich danych osobowych i kart."
    ),
    "privacy.right_objection": (
        "Sprzeciw: możesz sprzeciwić się sposobowi wykorzystania Twoich danych i złożyć "
        "skargę do Prezesa UODO."
    ),
    "privacy.minors": (
        "W przypadku członków poniżej 18 lat potrzebujemy zgody rodzica lub opiekuna."
    ),
    # -- notices to members: `notice.<kind>`
    "notice.reminder": (
        "Przypomnienie: Twoja rezerwacja ({room}, {start:%H:%M}) zostanie zwolniona o "
        "{release_at:%H:%M}, jeśli nie zameldujesz się kartą przy drzwiach."
    ),
    "notice.released": (
        "Twoja rezerwacja ({room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}) została "
        "zwolniona, bo do {release_at:%H:%M} nikt nie zameldował się kartą przy drzwiach. "
        "Sala wraca do dyspozycji społeczności. Odnotowano nieobecność: {count} z {limit} "
        "w ciągu {window}."
    ),
    "notice.released_by_staff": (
        "Obsługa zwolniła Twoją rezerwację sali {room} ({start:%d.%m.%Y}, "
        "{start:%H:%M}–{end:%H:%M}). Nie liczy się ona jako nieobecność."
    ),
    "notice.booking_suspended": (
        "Po {count} nieobecnościach w ciągu {window} nie możesz rezerwować sal do "
        "{until:%d.%m.%Y %H:%M}. Twoje karty i członkostwa nadal otwierają drzwi."
    ),
    # "termin" (a slot), so the sentence agrees with any room's name in gender.
    "notice.offer": "Zwolnił się termin: {room}, {span}. Potwierdź do {by}, aby go zarezerwować.",
    "period.last_day": "ostatniej doby",
    "period.last_days": "ostatnich {n} dni",
    "period.last_hours": "ostatnich {n} godz.",
    "period.last_minutes": "ostatnich {n} min",
}
