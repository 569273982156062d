"""Member portal's words (`/me/...`) in Ukrainian (server.notify.texts.portal).

The keys and placeholders are those of the other languages' portal tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "portal.title": "Мій HUB",
    "portal.nav": "Сторінки порталу",
    "portal.nav.home": "Головна",
    "portal.nav.rooms": "Зали",
    "portal.nav.bookings": "Мої бронювання",
    "portal.nav.waitlist": "Список очікування",
    "portal.nav.notifications": "Сповіщення",
    "portal.nav.calendar": "Календар",
    "portal.nav.strikes": "Неявки",
    "portal.back_rooms": "Назад до залів",
    "portal.back_bookings": "Назад до моїх бронювань",
    "portal.dur.h": "{h} год",
    "portal.dur.hm": "{h} год {m} хв",
    "portal.dur.m": "{m} хв",
    # signing in
    "portal.signin.title": "Вхід до порталу учасників",
    "portal.signin.intro": "Бронюйте зали, переглядайте свої бронювання та сповіщення.",
    "portal.signin.by_link": "Посилання для входу електронною поштою",
    "portal.signin.by_password": "Або e-mail і пароль",
    # the front page
    "portal.home.find": "Знайти вільну залу",
    "portal.home.all_bookings": "Усі мої бронювання",
    # rooms
    "portal.rooms.title": "Зали та вільні години",
    "portal.rooms.days": "Оберіть день",
    "portal.rooms.today": "Сьогодні",
    "portal.rooms.other_day": "Інший день",
    "portal.rooms.show": "Показати",
    "portal.rooms.size": "Місткість",
    "portal.rooms.people": "до {n} осіб",
    "portal.rooms.equipment": "Обладнання",
    "portal.rooms.who": "Хто може бронювати",
    "portal.rooms.any_member": "кожен учасник HUB-у",
    "portal.rooms.price": "Ціна для вас",
    "portal.rooms.per_hour": "{price} {currency} за годину",
    "portal.rooms.free_of_charge": "безкоштовно",
    "portal.rooms.all": "Усі зали",
    "portal.rooms.free": "вільно",
    "portal.rooms.taken": "зайнято – чекати",
    "portal.rooms.none": "Цього дня вже немає годин для бронювання.",
    "portal.wd.0": "Пн",
    "portal.wd.1": "Вт",
    "portal.wd.2": "Ср",
    "portal.wd.3": "Чт",
    "portal.wd.4": "Пт",
    "portal.wd.5": "Сб",
    "portal.wd.6": "Нд",
    "portal.quota.week": "Ваш ліміт: {limit} бронювань на тиждень (цього тижня залишилося: {left})",
    # booking
    "portal.book.title": "Бронювання зали",
    "portal.book.day": "День",
    "portal.book.start": "З",
    "portal.book.end": "До",
    "portal.book.what": "Назва (що відбудеться)",
    "portal.book.attendees": "Учасники (адреси e-mail учасників HUB-у)",
    "portal.book.attendees_hint": (
        "Необов'язково. Учасники з цими адресами теж зможуть увійти до зали своєю карткою."
    ),
    "portal.book.weeks": "Кількість тижнів",
    "portal.book.weeks_hint": "1 – один раз; більше – щотижня в той самий час (не більше {max}).",
    "portal.book.cost": "Вартість: {price} {currency}",
    "portal.book.submit": "Забронювати",
    # my bookings
    "portal.bk.title": "Мої бронювання",
    "portal.bk.upcoming": "Майбутні",
    "portal.bk.past": "Минулі",
    "portal.bk.no_past": "Минулих бронювань немає.",
    "portal.bk.attending": "ви учасник",
    "portal.bk.attendees_n": "учасників: {n}",
    "portal.bk.cancel": "Скасувати",
    "portal.bk.add_attendees": "Додати учасників",
    "portal.status.booked": "заброньовано",
    "portal.status.checked_in": "триває – ви на місці",
    "portal.status.completed": "відбулося",
    "portal.status.released": "звільнено – ніхто не прийшов",
    "portal.status.cancelled": "скасовано",
    "portal.done.booked": "Заброньовано (бронювань: {n}).",
    "portal.done.cancelled": "Бронювання скасовано. Зала знову вільна.",
    "portal.done.attendees": "Учасників додано.",
    "portal.done.joined": "Ви в списку очікування.",
    "portal.done.left": "Вас вилучено зі списку очікування.",
    "portal.cancel.title": "Скасувати бронювання?",
    "portal.cancel.submit": "Так, скасувати бронювання",
    "portal.cancel.keep": "Ні, залишити",
    "portal.cancel.cannot": "Це бронювання вже не можна скасувати.",
    "portal.att.title": "Додати учасників",
    "portal.att.hint": "Адреси e-mail учасників HUB-у, через кому або кожна з нового рядка "
    "(не більше {max} за раз).",
    "portal.att.submit": "Додати",
    # the waitlist
    "portal.wl.title": "Список очікування",
    "portal.wl.intro": (
        "Коли зайнята година звільниться, ви отримаєте пропозицію. Прийміть її, доки вона "
        "не сплила."
    ),
    "portal.wl.entries": "На що я чекаю",
    "portal.wl.none": "Ви не чекаєте на жодну залу.",
    "portal.wl.leave": "Вийти зі списку",
    "portal.wl.status.waiting": "очікуєте",
    "portal.wl.status.offered": "є пропозиція – прийміть її",
    "portal.wl.status.booked": "заброньовано",
    "portal.wl.status.expired": "пропозиція сплила",
    "portal.wl.status.cancelled": "вийшли зі списку",
    "portal.offer.title": "Пропозиції до прийняття",
    "portal.offer.none": "У вас немає пропозицій.",
    "portal.offer.until": "Прийміть до {at}",
    "portal.offer.accept": "Прийняти й забронювати",
    "portal.join.title": "Чекати на цю годину?",
    "portal.join.intro": (
        "Ця година зайнята. Якщо вона звільниться, ми запропонуємо її вам (хто записався "
        "першим, той першим отримує пропозицію)."
    ),
    "portal.join.any_similar": "Або будь-яка схожа зала, що вмістить стільки ж людей",
    "portal.join.submit": "Записати мене в список очікування",
    # notifications
    "portal.notes.title": "Сповіщення",
    "portal.notes.none": "У вас поки немає жодного сповіщення.",
    # the calendar link
    "portal.cal.title": "Мій календар",
    "portal.cal.intro": (
        "Додайте це посилання до свого календаря (Google, Apple, Outlook: «підписатися на "
        "календар» або «додати з URL»), і ваші бронювання з'являтимуться там самі."
    ),
    "portal.cal.link": "Посилання на календар",
    "portal.cal.open": "Відкрити файл календаря",
    "portal.cal.new_title": "Нове посилання",
    "portal.cal.new_intro": (
        "Посилання працює без входу – не поширюйте його. Якщо хтось його дізнався, створіть "
        "нове: старе перестане працювати."
    ),
    "portal.cal.new": "Створити нове посилання",
    "portal.cal.renewed": "Створено нове посилання; старе більше не працює.",
    # no-show strikes
    "portal.strikes.title": "Мої неявки",
    "portal.strikes.rule": (
        "Якщо ви не прикладете картку протягом {grace} хв від початку бронювання, залу "
        "звільнять для інших, а вам зарахують неявку. Після {limit} неявок за {days} днів "
        "ви не зможете бронювати {suspension} днів (двері для вас і далі відчиняються)."
    ),
    "portal.strikes.count": "Неявок за останні {days} днів: {n} з {limit}.",
    "portal.strikes.suspended": "Ви не можете бронювати до {until}.",
    "portal.strikes.list": "Мої неявки",
    "portal.strikes.when": "Коли",
    "portal.strikes.room": "Зала",
    "portal.strikes.counts": "Враховується",
    "portal.strikes.yes": "так",
    "portal.strikes.no": "ні (застаріла або знята)",
    "portal.strikes.none": "У вас немає неявок.",
    # refusals
    "portal.refused.title": "Не вдалося",
    "portal.err.quota": (
        "Ваш ліміт – {limit} бронювань на тиждень; у тижні з {week:%d.%m.%Y} залишилося "
        "{left}. Нічого не заброньовано."
    ),
    # the reception desk's words for the same refusal, of a member booked for by staff
    "desk.err.quota": (
        "Ліміт цієї особи – {limit} бронювань на тиждень; у тижні з {week:%d.%m.%Y} "
        "залишилося {left}. Нічого не заброньовано."
    ),
    "portal.err.unknown_emails": (
        "Жоден учасник не має такої адреси: {emails}. Перевірте її. Нічого не змінено."
    ),
    "portal.err.too_many_emails": "Забагато адрес за раз. Нічого не змінено.",
    "portal.err.self_attendee": "Ви власник бронювання – не додавайте себе як учасника.",
    "portal.err.suspended": "Ваш обліковий запис призупинено; зараз ви не можете бронювати.",
    "portal.err.barred": (
        "Після повторних неявок ви тимчасово не можете бронювати (див. «Неявки»)."
    ),
    "portal.err.not_yours": "Це не ваше бронювання.",
    "portal.err.when": "Вкажіть правильний день і час.",
    "portal.err.weeks": "Кількість тижнів має бути цілим числом від 1 до {max}.",
    "portal.err.room": "Цю залу не можна бронювати.",
    # equipment of the rooms (the site file's `equipment` ids)
    "equipment.projector": "проєктор",
    "equipment.whiteboard": "дошка",
    "equipment.workbenches": "робочі столи",
    "equipment.sound": "звукова система",
    "equipment.video_call": "комплект для відеозв'язку",
    # the audit log's words for what members do in the portal
    "audit.action.booking.attendees": "Додавання учасників бронювання",
    "audit.action.member.calendar_key": "Нове посилання на календар учасника",
}
