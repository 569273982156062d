"""Member portal's words (`/me/...`) in Polish (server.notify.texts.portal).

The keys and placeholders are those of the other languages' portal tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "portal.title": "Mój HUB",
    "portal.nav": "Strony portalu",
    "portal.nav.home": "Start",
    "portal.nav.rooms": "Sale",
    "portal.nav.bookings": "Moje rezerwacje",
    "portal.nav.waitlist": "Lista oczekujących",
    "portal.nav.notifications": "Powiadomienia",
    "portal.nav.calendar": "Kalendarz",
    "portal.nav.strikes": "Nieobecności",
    "portal.back_rooms": "Wróć do sal",
    "portal.back_bookings": "Wróć do moich rezerwacji",
    "portal.dur.h": "{h} godz.",
    "portal.dur.hm": "{h} godz. {m} min",
    "portal.dur.m": "{m} min",
    # signing in
    "portal.signin.title": "Zaloguj się do portalu członków",
    "portal.signin.intro": "Rezerwuj sale, sprawdzaj swoje rezerwacje i powiadomienia.",
    "portal.signin.by_link": "Link do logowania e-mailem",
    "portal.signin.by_password": "Albo e-mail i hasło",
    # the front page
    "portal.home.find": "Znajdź wolną salę",
    "portal.home.all_bookings": "Wszystkie moje rezerwacje",
    # rooms
    "portal.rooms.title": "Sale i wolne godziny",
    "portal.rooms.days": "Wybierz dzień",
    "portal.rooms.today": "Dziś",
    "portal.rooms.other_day": "Inny dzień",
    "portal.rooms.show": "Pokaż",
    "portal.rooms.size": "Wielkość",
    "portal.rooms.people": "do {n} osób",
    "portal.rooms.equipment": "Wyposażenie",
    "portal.rooms.who": "Kto może rezerwować",
    "portal.rooms.any_member": "każdy członek HUB-u",
    "portal.rooms.price": "Cena dla Ciebie",
    "portal.rooms.per_hour": "{price} {currency} za godzinę",
    "portal.rooms.free_of_charge": "bezpłatnie",
    "portal.rooms.all": "Wszystkie sale",
    "portal.rooms.free": "wolne",
    "portal.rooms.taken": "zajęte – czekaj",
    "portal.rooms.none": "Tego dnia nie ma już godzin do zarezerwowania.",
    "portal.wd.0": "Pon.",
    "portal.wd.1": "Wt.",
    "portal.wd.2": "Śr.",
    "portal.wd.3": "Czw.",
    "portal.wd.4": "Pt.",
    "portal.wd.5": "Sob.",
    "portal.wd.6": "Niedz.",
    "portal.quota.week": (
        "Twój limit: {limit} rezerwacji tygodniowo (w tym tygodniu zostało: {left})"
    ),
    # booking
    "portal.book.title": "Rezerwacja sali",
    "portal.book.day": "Dzień",
    "portal.book.start": "Od",
    "portal.book.end": "Do",
    "portal.book.what": "Tytuł (co się odbędzie)",
    "portal.book.attendees": "Uczestnicy (adresy e-mail członków)",
    "portal.book.attendees_hint": (
        "Opcjonalnie. Członkowie o tych adresach też wejdą do sali swoją kartą."
    ),
    "portal.book.weeks": "Liczba tygodni",
    "portal.book.weeks_hint": "1 to jeden raz; więcej – co tydzień o tej porze (najwyżej {max}).",
    "portal.book.cost": "Koszt: {price} {currency}",
    "portal.book.submit": "Zarezerwuj",
    # my bookings
    "portal.bk.title": "Moje rezerwacje",
    "portal.bk.upcoming": "Nadchodzące",
    "portal.bk.past": "Minione",
    "portal.bk.no_past": "Brak minionych rezerwacji.",
    "portal.bk.attending": "jesteś uczestnikiem",
    "portal.bk.attendees_n": "uczestnicy: {n}",
    "portal.bk.cancel": "Anuluj",
    "portal.bk.add_attendees": "Dodaj uczestników",
    "portal.status.booked": "zarezerwowana",
    "portal.status.checked_in": "trwa – jesteś na miejscu",
    "portal.status.completed": "odbyła się",
    "portal.status.released": "zwolniona – nikt nie przyszedł",
    "portal.status.cancelled": "anulowana",
    "portal.done.booked": "Zarezerwowano (rezerwacji: {n}).",
    "portal.done.cancelled": "Rezerwacja anulowana. Sala jest znów wolna.",
    "portal.done.attendees": "Dodano uczestników.",
    "portal.done.joined": "Jesteś na liście oczekujących.",
    "portal.done.left": "Wypisano z listy oczekujących.",
    "portal.cancel.title": "Anulować rezerwację?",
    "portal.cancel.submit": "Tak, anuluj rezerwację",
    "portal.cancel.keep": "Nie, zostaw ją",
    "portal.cancel.cannot": "Tej rezerwacji nie można już anulować.",
    "portal.att.title": "Dodaj uczestników",
    "portal.att.hint": "Adresy e-mail członków, oddzielone przecinkami lub w osobnych wierszach "
    "(najwyżej {max} naraz).",
    "portal.att.submit": "Dodaj",
    # the waitlist
    "portal.wl.title": "Lista oczekujących",
    "portal.wl.intro": (
        "Gdy zajęta godzina się zwolni, dostaniesz propozycję. Przyjmij ją, zanim wygaśnie."
    ),
    "portal.wl.entries": "Na co czekam",
    "portal.wl.none": "Nie czekasz na żadną salę.",
    "portal.wl.leave": "Wypisz mnie",
    "portal.wl.status.waiting": "czekasz",
    "portal.wl.status.offered": "masz propozycję – przyjmij ją",
    "portal.wl.status.booked": "zarezerwowana",
    "portal.wl.status.expired": "propozycja wygasła",
    "portal.wl.status.cancelled": "wypisano",
    "portal.offer.title": "Propozycje do przyjęcia",
    "portal.offer.none": "Nie masz żadnych propozycji.",
    "portal.offer.until": "Przyjmij do {at}",
    "portal.offer.accept": "Przyjmij i zarezerwuj",
    "portal.join.title": "Czekać na tę godzinę?",
    "portal.join.intro": (
        "Ta godzina jest zajęta. Jeśli się zwolni, zaproponujemy ją Tobie (kto pierwszy się "
        "zapisał, ten pierwszy dostaje propozycję)."
    ),
    "portal.join.any_similar": "Albo dowolna podobna sala, która pomieści tyle samo osób",
    "portal.join.submit": "Zapisz mnie na listę oczekujących",
    # notifications
    "portal.notes.title": "Powiadomienia",
    "portal.notes.none": "Nie masz powiadomień.",
    # the calendar link
    "portal.cal.title": "Mój kalendarz",
    "portal.cal.intro": (
        "Dodaj ten link w swoim kalendarzu (Google, Apple, Outlook: „subskrybuj kalendarz” "
        "lub „dodaj z adresu URL”), a Twoje rezerwacje same się w nim pojawią."
    ),
    "portal.cal.link": "Link do kalendarza",
    "portal.cal.open": "Otwórz plik kalendarza",
    "portal.cal.new_title": "Nowy link",
    "portal.cal.new_intro": (
        "Link działa bez logowania – nie udostępniaj go. Jeśli ktoś go poznał, utwórz nowy: "
        "stary przestanie działać."
    ),
    "portal.cal.new": "Utwórz nowy link",
    "portal.cal.renewed": "Utworzono nowy link; stary już nie działa.",
    # no-show strikes
    "portal.strikes.title": "Moje nieobecności",
    "portal.strikes.rule": (
        "Jeśli nie odbijesz karty w ciągu {grace} min od początku rezerwacji, sala zostaje "
        "zwolniona dla innych, a Ty dostajesz nieobecność. Po {limit} nieobecnościach "
        "w ciągu {days} dni nie możesz rezerwować przez {suspension} dni (drzwi działają dalej)."
    ),
    "portal.strikes.count": "Nieobecności w ostatnich {days} dniach: {n} z {limit}.",
    "portal.strikes.suspended": "Nie możesz rezerwować do {until}.",
    "portal.strikes.list": "Moje nieobecności",
    "portal.strikes.when": "Kiedy",
    "portal.strikes.room": "Sala",
    "portal.strikes.counts": "Liczy się",
    "portal.strikes.yes": "tak",
    "portal.strikes.no": "nie (minęła lub usunięta)",
    "portal.strikes.none": "Nie masz nieobecności.",
    # refusals
    "portal.refused.title": "Nie udało się",
    "portal.err.quota": (
        "Twój limit to {limit} rezerwacji w tygodniu, a w tygodniu od {week:%d.%m.%Y} zostało "
        "{left} – niczego nie zarezerwowano."
    ),
    # the reception desk's words for the same refusal, of a member booked for by staff
    "desk.err.quota": (
        "Limit tej osoby to {limit} rezerwacji w tygodniu, a w tygodniu od {week:%d.%m.%Y} "
        "zostało {left} – niczego nie zarezerwowano."
    ),
    "portal.err.unknown_emails": (
        "Żaden członek nie ma adresu: {emails}. Sprawdź adres. Niczego nie zmieniono."
    ),
    "portal.err.too_many_emails": "Za dużo adresów naraz. Niczego nie zmieniono.",
    "portal.err.self_attendee": "Ty jesteś rezerwującym – nie dodawaj siebie jako uczestnika.",
    "portal.err.suspended": "Twoje konto jest zawieszone; nie możesz teraz rezerwować.",
    "portal.err.barred": (
        "Po powtarzających się nieobecnościach nie możesz na razie rezerwować "
        "(zobacz „Nieobecności”)."
    ),
    "portal.err.not_yours": "To nie jest Twoja rezerwacja.",
    "portal.err.when": "Podaj poprawny dzień i godzinę.",
    "portal.err.weeks": "Liczba tygodni musi być liczbą całkowitą od 1 do {max}.",
    "portal.err.room": "Tej sali nie można rezerwować.",
    # equipment of the rooms (the site file's `equipment` ids)
    "equipment.projector": "projektor",
    "equipment.whiteboard": "tablica",
    "equipment.workbenches": "stoły warsztatowe",
    "equipment.sound": "nagłośnienie",
    "equipment.video_call": "zestaw do wideokonferencji",
    # the audit log's words for what members do in the portal
    "audit.action.booking.attendees": "Dodanie uczestników rezerwacji",
    "audit.action.member.calendar_key": "Nowy link do kalendarza członka",
}
