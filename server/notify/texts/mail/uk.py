"""Words of e-mails to members and staff in Ukrainian (server.notify.texts.mail), and of
the pages their links open, the reception's mail list and the demo's mailbox.

The keys and placeholders are those of the other languages' mail tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- the mails (server.notify.mails)
    "mail.greeting": "Добрий день, {name}!",
    "mail.signature": "{site}\nВаші бронювання: {portal}",
    "mail.confirmed.subject": "Бронювання: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.confirmed.body": (
        "Ваше бронювання підтверджено: {room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}. "
        "Доданий файл booking.ics внесе його до вашого календаря."
    ),
    "mail.series.subject": "Бронювання: {room}, {count} тижнів від {start:%d.%m.%Y}",
    "mail.series.body": (
        "Ваше щотижневе бронювання підтверджено: {room}, {start:%H:%M}–{end:%H:%M}, "
        "{count} разів з {start:%d.%m.%Y} до {last:%d.%m.%Y}. Доданий файл booking.ics "
        "внесе всі дати до вашого календаря."
    ),
    "mail.check_in": (
        "Відмітьтеся, приклавши картку до зчитувача біля дверей зали протягом {grace} хвилин "
        "від початку, інакше зала повернеться до інших."
    ),
    "mail.cancel_hint": (
        "Не зможете прийти? Скасуйте одним кліком, щоб залою могли скористатися інші:\n{link}"
    ),
    "mail.ics_removes": "Доданий файл booking.ics прибере його з вашого календаря.",
    "mail.cancelled.subject": "Скасовано: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.cancelled.body": (
        "Ваше бронювання зали {room} ({start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}) скасовано."
    ),
    "mail.reminder.subject": "Нагадування: {room}, {start:%d.%m.%Y %H:%M}",
    "mail.reminder.body": (
        "Нагадуємо: ваше бронювання зали {room} починається {start:%d.%m.%Y} о {start:%H:%M} "
        "(до {end:%H:%M})."
    ),
    "mail.offer.accept": "Прийміть її одним кліком, поки пропозиція чинна:\n{link}",
    "mail.subject.released": "Ваше бронювання звільнено — {site}",
    "mail.subject.released_by_staff": "Персонал звільнив ваше бронювання — {site}",
    "mail.subject.offer": "Зала вільна для вас — {site}",
    "mail.subject.booking_suspended": "Бронювання тимчасово недоступне — {site}",
    # -- the pages of the links in mail (server.portal.links)
    "link.when": "{room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}",
    "link.cancel.title": "Скасування бронювання",
    "link.cancel.ask": "Скасувати це бронювання? Зала одразу стане вільною для інших.",
    "link.cancel.button": "Скасувати бронювання",
    "link.cancel.done": "Бронювання скасовано. Дякуємо, що звільнили залу.",
    "link.cancel.gone": "Це бронювання вже має статус: {status}. Скасовувати нічого.",
    "link.accept.title": "Прийняття пропозиції",
    "link.accept.ask": "Зала чекає на вас до {by:%H:%M}. Забронювати її?",
    "link.accept.button": "Забронювати залу",
    "link.accept.done": "Залу заброньовано. Підтвердження надіслано електронною поштою.",
    "link.accept.gone": "Цю пропозицію вже не можна прийняти: її прийнято або вона минула.",
    "link.accept.taken": "На жаль, залу тим часом забронювали. Ви залишаєтеся в списку очікування.",
    "link.accept.refused": (
        "Зараз ви не можете бронювати зали, тож пропозиція залишається відкритою."
    ),
    "link.bad.title": "Це посилання не працює",
    "link.bad": (
        "Це посилання недійсне. Відкрийте посилання з листа без змін або увійдіть, щоб "
        "побачити свої бронювання."
    ),
    "link.expired": "Термін дії цього посилання минув.",
    "link.portal": "Мої бронювання",
    # -- the reception's list of mail (server.dashboard.reception.mail)
    "nav.mail": "Пошта",
    "mailq.title": "Пошта",
    "mailq.intro": "Усі листи учасникам і персоналу, від найновіших, з їхнім станом. Час: {zone}.",
    "mailq.off": "Надсилання вимкнено (SPACEHUB_SMTP_URL не задано): листи чекають тут.",
    "mailq.rows": "Листи",
    "mailq.empty": "Жоден лист не відповідає фільтрам.",
    "mailq.state": "Стан",
    "mailq.state_any": "Будь-який стан",
    "mailq.state.pending": "очікує",
    "mailq.state.sent": "надіслано",
    "mailq.state.failed": "не вдалося",
    "mailq.bad_state": "Виберіть стан зі списку.",
    "mailq.created": "Додано",
    "mailq.to": "Кому",
    "mailq.subject": "Тема",
    "mailq.attempts": "Спроби",
    "mailq.sent_at": "Надіслано",
    "mailq.error": "Остання помилка",
    # -- the demo's mailbox (spacehub demo: /demo/mail)
    "demomail.title": "Демо-скринька",
    "demomail.intro": (
        "Усі листи, надіслані демо, отримані його власним SMTP-сервером: відкрийте лист, "
        "щоб перейти за його посиланнями."
    ),
    "demomail.empty": "Листів ще немає. Попросіть посилання для входу на сторінці входу.",
    "demomail.received": "Отримано",
    "demomail.to": "Кому",
    "demomail.subject": "Тема",
    "demomail.links": "Посилання в цьому листі",
    "demomail.attachment": "Вкладення",
    "demomail.back": "Усі листи",
}
