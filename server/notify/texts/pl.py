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
    # -- pages: signing in, accounts, the member's page; the sign-in mail
    "signin.with_password": "E-mail i hasło",
    "signin.email": "E-mail",
    "signin.password": "Hasło",
    "signin.with_link": "Wyślij mi link do logowania",
    "signin.link_intro": "Wyślemy e-mailem link, który zaloguje Cię jeden raz w ciągu 15 minut.",
    "signin.send_link": "Wyślij link",
    "signin.link_sent": (
        "Jeśli istnieje konto z tym adresem e-mail, link do logowania jest już w drodze."
    ),
    "signin.link_bad": "Ten link do logowania został już użyty albo wygasł. Poproś o nowy.",
    "signin.with_token": "Token administratora",
    "signin.bad_pair": "Nieprawidłowy e-mail lub hasło. Spróbuj ponownie.",
    "signin.other_site": (
        "To konto działa tylko w placówce {site}. Zaloguj się na stronie tamtej placówki."
    ),
    "signin.too_many": "Zbyt wiele nieudanych prób. Odczekaj 15 minut i spróbuj ponownie.",
    "nav.accounts": "Konta",
    "me.title": "Moje konto",
    "me.hello": "Dzień dobry, {name}",
    "me.upcoming": "Moje nadchodzące rezerwacje",
    "me.none": "Nie masz nadchodzących rezerwacji.",
    "mail.sign_in.subject": "Twój link do logowania w {site}",
    "mail.sign_in.body": (
        "Dzień dobry {name},\n\notwórz ten link, aby się zalogować (działa jeden raz, przez "
        "{minutes} minut):\n{link}\n\nJeśli to nie Ty prosisz o ten link, zignoruj tę wiadomość."
    ),
    "accounts.title": "Konta",
    "accounts.users": "Użytkownicy",
    "accounts.name": "Imię i nazwisko",
    "accounts.email": "E-mail",
    "accounts.role": "Rola",
    "accounts.role.admin": "Administrator",
    "accounts.role.staff": "Obsługa",
    "accounts.role.member": "Członek",
    "accounts.site": "Placówka",
    "accounts.site.every": "Każda placówka",
    "accounts.site.default": "Jak dla roli (personel: ta placówka, administrator: każda)",
    "accounts.site_hint": (
        "Konto personelu lub administratora loguje się tylko w swojej placówce. "
        "Konto członka działa w każdej."
    ),
    "accounts.status": "Stan",
    "accounts.actions": "Działania",
    "accounts.active": "Aktywne",
    "accounts.disabled": "Wyłączone",
    "accounts.disable": "Wyłącz",
    "accounts.none": "Nie ma jeszcze kont.",
    "accounts.create": "Dodaj konto",
    "accounts.member_id": "Numer członka (opcjonalnie)",
    "accounts.member_hint": (
        "Dla konta członka: numer istniejącego członka albo puste pole, by dodać nowego "
        "członka z kategorią poniżej."
    ),
    "accounts.category": "Kategoria nowego członka",
    "accounts.category.resident": "Mieszkaniec",
    "accounts.category.ngo": "Organizacja pozarządowa",
    "accounts.category.business": "Firma",
    "accounts.category.staff": "Obsługa",
    "accounts.password": "Hasło (opcjonalnie)",
    "accounts.password_hint": (
        "Co najmniej 10 znaków. Bez hasła konto loguje się linkiem wysłanym e-mailem."
    ),
    "accounts.tokens": "Moje tokeny API",
    "accounts.tokens_none": "Nie masz jeszcze tokenów API.",
    "accounts.tokens_no_user": (
        "Token administratora nie ma osobistych tokenów API. Zaloguj się na konto, aby je tworzyć."
    ),
    "accounts.token_name": "Nazwa tokenu",
    "accounts.token_create": "Utwórz token",
    "accounts.token_revoke": "Unieważnij",
    "accounts.token_shown": "Twój nowy token. Skopiuj go teraz: nie zostanie pokazany ponownie.",
    "accounts.revoked": "unieważniony",
    "accounts.mail": "Wiadomości z linkami do logowania czekające na wysłanie",
    "accounts.mail_none": "Żadna wiadomość nie czeka.",
    "accounts.error.taken": "Konto z tym adresem e-mail już istnieje.",
    "accounts.error.forbidden": "Obsługa może dodawać i zmieniać tylko konta członków.",
    "accounts.error.invalid": (
        "Sprawdź formularz: imię i nazwisko, e-mail (poprawny adres), hasło co najmniej 10 "
        "znaków, a dla konta członka numer członka albo kategoria."
    ),
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
    "room.no_counter": "brak licznika wejść",
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
    "mode.normal": "na kartę",
    "mode.locked": "zablokowane",
    "mode.unlocked": "otwarte na stałe",
    "mode.public": "otwarte na wydarzenie publiczne",
    "action.unlock": "Otwórz zdalnie",
    "action.locked": "Zablokuj",
    "action.unlocked": "Otwarte na stałe",
    "action.normal": "Na kartę",
    "action.cancel": "Anuluj rezerwację",
    "action.release": "Zwolnij salę teraz",
    "action.ack": "Potwierdź",
    "confirm.locked": "Zablokować drzwi „{door}”? Nikt nie wejdzie kartą.",
    "confirm.unlocked": (
        "Otworzyć drzwi „{door}” na stałe? Każdy wejdzie bez karty, dopóki nie wybierzesz "
        "„Na kartę”."
    ),
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
    "feed.by_gateway": "zdecydował sterownik w budynku",
    "feed.by_expired": "brak odpowiedzi",
    "feed.empty": "Nikt jeszcze nie przyłożył karty.",
    "evac.in_building": "W budynku według licznika wejść",
    "evac.unknown": "brak danych z licznika wejść",
    "evac.entered": "Weszli dziś kartą przez wejście (także ci, którzy już wyszli)",
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
    "kind.occupancy": "czujnik",
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
    "health.readonly": (
        "Baza danych nie przyjmuje zapisów: wejścia i zdarzenia urządzeń nie są teraz zapisywane."
    ),
    # -- the unrecorded device messages' page (`/reception/dead-letters`)
    "dl.nav": "Niezapisane wiadomości",
    "dl.title": "Niezapisane wiadomości urządzeń",
    "dl.intro": (
        "Wiadomości od czytników i czujników, których serwer nie zdołał zapisać (np. gdy "
        "baza danych była pełna). Gdy przyczyna zniknie, zapisz je ponownie; wiadomość, "
        "której nie da się zapisać, odrzuć."
    ),
    "dl.when": "Otrzymano",
    "dl.device": "Urządzenie",
    "dl.topic": "Temat",
    "dl.error": "Błąd",
    "dl.attempts": "Próby",
    "dl.replay": "Zapisz ponownie",
    "dl.discard": "Odrzuć",
    "dl.none": "Brak niezapisanych wiadomości.",
    "dl.done.replayed": "Wiadomość została zapisana.",
    "dl.done.discarded": "Wiadomość została odrzucona.",
    "dl.err.unreadable": (
        "Tej wiadomości nie da się odczytać (zmienił się klucz kart). Możesz ją odrzucić."
    ),
    "dl.err.never": "Tej wiadomości nigdy nie da się zapisać. Możesz ją odrzucić.",
    "dl.err.again": "Zapis znów się nie udał. Wiadomość czeka dalej.",
    "dl.err.busy": "Baza danych nie przyjęła zapisu. Spróbuj za chwilę.",
    "dl.err.no_ingest": "Odbiór wiadomości urządzeń nie działa na tym serwerze. Spróbuj za chwilę.",
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
    "reason.policy_stale": "nieaktualne uprawnienia w sterowniku budynku",
    # -- pages: the dashboard as a receptionist reads it (evidence, building, severity, errors)
    "state.checked_in_unseen": "Rezerwacja trwa, nikogo nie widać",
    "evidence.people": "osoby w sali: {people}",
    "evidence.motion": "ruch {minutes} min temu",
    "evidence.motion_now": "ruch teraz",
    "section.building": "Budynek",
    "building.people": "W budynku",
    "building.counter": "według licznika wejść",
    "kind.pir": "czujnik ruchu",
    "kind.counter": "licznik wejść",
    "severity.critical": "Pilne",
    "severity.warning": "Ostrzeżenie",
    "severity.notice": "Informacja",
    "error.conflict": (
        "stan już się zmienił (np. rezerwacja jest już anulowana lub zakończona); odśwież widok"
    ),
    "error.not_found": "tego już nie ma (np. rezerwację usunięto)",
    "error.forbidden": "brak uprawnień do tej czynności",
    "error.session": "sesja wygasła – zaloguj się ponownie",
    "error.invalid": "nieprawidłowe dane",
    "error.busy": "zbyt wiele prób – spróbuj za chwilę",
    "error.server": "błąd serwera – spróbuj ponownie",
    "error.network": "brak połączenia z serwerem",
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
    "offer.part": "{span} (część terminu {wanted}, na który czekasz)",
    "period.last_day": "ostatniej doby",
    "period.last_days": "ostatnich {n} dni",
    "period.last_hours": "ostatnich {n} godz.",
    "period.last_minutes": "ostatnich {n} min",
}
