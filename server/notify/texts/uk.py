"""The texts in Ukrainian: pages first, then notices to members.

The keys and placeholders are those of `pl` and `en` (server.notify.texts)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- pages: the staff dashboard
    "title": "Панель рецепції",
    "skip": "Перейти до вмісту",
    "lang": "Мова",
    "signin.title": "Вхід до панелі рецепції",
    "signin.intro": "Введіть токен адміністратора, щоб бачити зали, двері та попередження.",
    "signin.token": "Токен адміністратора",
    "signin.submit": "Увійти",
    "signin.bad": "Цей токен недійсний. Спробуйте ще раз.",
    "signin.disabled": "Сервер не має токена адміністратора (SPACEHUB_ADMIN_TOKEN).",
    "signout": "Вийти",
    # -- pages: signing in, accounts, the member's page; the sign-in mail
    "signin.with_password": "Електронна пошта й пароль",
    "signin.email": "Електронна пошта",
    "signin.password": "Пароль",
    "signin.with_link": "Надіслати мені посилання для входу",
    "signin.link_intro": (
        "Ми надішлемо електронною поштою посилання, яке один раз увійде протягом 15 хвилин."
    ),
    "signin.send_link": "Надіслати посилання",
    "signin.link_sent": (
        "Якщо є обліковий запис із цією адресою, посилання для входу вже надіслано."
    ),
    "signin.link_bad": (
        "Це посилання для входу вже використано або воно прострочене. Попросіть нове."
    ),
    "signin.with_token": "Токен адміністратора",
    "signin.bad_pair": "Неправильна електронна пошта або пароль. Спробуйте ще раз.",
    "signin.other_site": (
        "Цей обліковий запис діє лише в осередку {site}. Увійдіть на сторінці того осередку."
    ),
    "signin.too_many": "Забагато невдалих спроб. Зачекайте 15 хвилин і спробуйте ще раз.",
    "nav.accounts": "Облікові записи",
    "me.title": "Мій обліковий запис",
    "me.hello": "Вітаємо, {name}",
    "me.upcoming": "Мої найближчі бронювання",
    "me.none": "У вас немає найближчих бронювань.",
    "mail.sign_in.subject": "Ваше посилання для входу в {site}",
    "mail.sign_in.body": (
        "Вітаємо, {name}!\n\nВідкрийте це посилання, щоб увійти (воно діє один раз, "
        "{minutes} хвилин):\n{link}\n\nЯкщо ви його не просили, просто проігноруйте цей лист."
    ),
    "accounts.title": "Облікові записи",
    "accounts.users": "Користувачі",
    "accounts.name": "Ім'я та прізвище",
    "accounts.email": "Електронна пошта",
    "accounts.role": "Роль",
    "accounts.role.admin": "Адміністратор",
    "accounts.role.staff": "Персонал",
    "accounts.role.member": "Учасник",
    "accounts.site": "Осередок",
    "accounts.site.every": "Кожен осередок",
    "accounts.site.default": "Як для ролі (персонал: цей осередок, адміністратор: кожен)",
    "accounts.site_hint": (
        "Обліковий запис персоналу чи адміністратора входить лише у своєму осередку. "
        "Обліковий запис учасника діє в кожному."
    ),
    "accounts.status": "Стан",
    "accounts.actions": "Дії",
    "accounts.active": "Активний",
    "accounts.disabled": "Вимкнений",
    "accounts.disable": "Вимкнути",
    "accounts.none": "Облікових записів ще немає.",
    "accounts.create": "Додати обліковий запис",
    "accounts.member_id": "Номер учасника (необов'язково)",
    "accounts.member_hint": (
        "Для облікового запису учасника: номер наявного учасника або порожнє поле, щоб "
        "додати нового учасника з категорією нижче."
    ),
    "accounts.category": "Категорія нового учасника",
    "accounts.category.resident": "Мешканець",
    "accounts.category.ngo": "Громадська організація",
    "accounts.category.business": "Підприємство",
    "accounts.category.staff": "Персонал",
    "accounts.password": "Пароль (необов'язково)",
    "accounts.password_hint": (
        "Щонайменше 10 символів. Без пароля вхід — за посиланням з електронного листа."
    ),
    "accounts.tokens": "Мої токени API",
    "accounts.tokens_none": "Токенів API ще немає.",
    "accounts.tokens_no_user": (
        "Токен адміністратора не має особистих токенів API. Увійдіть з обліковим записом, "
        "щоб їх створювати."
    ),
    "accounts.token_name": "Назва токена",
    "accounts.token_create": "Створити токен",
    "accounts.token_revoke": "Відкликати",
    "accounts.token_shown": "Ваш новий токен. Скопіюйте його зараз: більше його не буде показано.",
    "accounts.revoked": "відкликано",
    "accounts.mail": "Листи з посиланнями для входу, що чекають на надсилання",
    "accounts.mail_none": "Листів, що чекають, немає.",
    "accounts.error.taken": "Обліковий запис із цією адресою вже існує.",
    "accounts.error.forbidden": (
        "Персонал може додавати й змінювати лише облікові записи учасників."
    ),
    "accounts.error.invalid": (
        "Перевірте форму: ім'я, електронну пошту (правильну адресу), пароль щонайменше з 10 "
        "символів, а для облікового запису учасника — номер учасника або категорію."
    ),
    "live.on": "Наживо",
    "live.connecting": "З’єднання…",
    "live.lost": "З’єднання втрачено – повторюю…",
    "live.expired": "Сеанс завершився – увійдіть знову.",
    "section.alerts": "Попередження",
    "section.rooms": "Зали",
    "section.feed": "Входи наживо",
    "section.evacuation": "Евакуація",
    "section.devices": "Пристрої",
    "state.free": "Вільна",
    "state.booked_waiting": "Заброньована, чекає на гостей",
    "state.in_use": "Використовується",
    "state.in_use_unbooked": "Використовується без бронювання",
    "state.released": "Звільнена",
    "state.over_capacity": "Перевищено місткість",
    "room.people": "Люди",
    "room.people_of": "{people} з {capacity}",
    "room.no_counter": "немає лічильника входів",
    "room.motion": "Рух",
    "room.no_motion": "не виявлено",
    "room.last_motion": "востаннє о {time}",
    "room.current": "Зараз",
    "room.next": "Наступне",
    "room.none": "немає",
    "booking.booked": "заброньовано",
    "booking.checked_in": "гості на місці",
    "booking.walk_in": "без попереднього бронювання",
    "door": "Двері",
    "door.mode": "Режим дверей",
    "door.reports": "двері повідомляють: {mode}",
    "mode.normal": "за карткою",
    "mode.locked": "заблоковано",
    "mode.unlocked": "відчинено постійно",
    "mode.public": "відчинено для публічного заходу",
    "action.unlock": "Відчинити дистанційно",
    "action.locked": "Заблокувати",
    "action.unlocked": "Відчинити постійно",
    "action.normal": "За карткою",
    "action.cancel": "Скасувати бронювання",
    "action.release": "Звільнити залу зараз",
    "action.ack": "Підтвердити",
    "confirm.locked": "Заблокувати двері «{door}»? Жодна картка їх не відчинить.",
    "confirm.unlocked": (
        "Залишити двері «{door}» відчиненими? Усі входитимуть без картки, доки ви не "
        "оберете «За карткою»."
    ),
    "confirm.cancel": "Скасувати бронювання «{title}»?",
    "confirm.release": "Звільнити залу від бронювання «{title}»? Без штрафу за неявку.",
    "done.unlock": "Команду відчинення надіслано: {door}.",
    "done.mode": "Режим дверей змінено: {door}.",
    "done.cancel": "Бронювання скасовано.",
    "done.release": "Залу звільнено.",
    "done.ack": "Попередження підтверджено.",
    "failed": "Не вдалося: {detail}",
    "feed.time": "Час",
    "feed.door": "Двері",
    "feed.who": "Хто",
    "feed.result": "Результат",
    "feed.granted": "Впущено",
    "feed.denied": "Відмовлено",
    "feed.unknown": "невідома картка",
    "feed.by_gateway": "рішення контролера в будівлі",
    "feed.by_expired": "немає відповіді",
    "feed.empty": "Ще ніхто не прикладав картку.",
    "evac.in_building": "У будівлі за лічильником входів",
    "evac.unknown": "немає даних лічильника входів",
    "evac.entered": "Увійшли сьогодні з карткою через вхід (разом із тими, хто вже вийшов)",
    "evac.name": "Ім’я",
    "evac.first": "Перший вхід",
    "evac.last": "Останній вхід",
    "evac.none": "Сьогодні ще ніхто не увійшов за карткою.",
    "evac.print": "Надрукувати список",
    "dev.device": "Пристрій",
    "dev.kind": "Тип",
    "dev.room": "Місце",
    "dev.state": "Стан",
    "dev.last_seen": "Останній сигнал",
    "dev.mode": "Режим дверей",
    "dev.mode_requested": "заданий: {mode}",
    "dev.mode_actual": "застосований: {mode}",
    "dev.online": "працює",
    "dev.offline": "не відповідає",
    "dev.never": "ніколи",
    "kind.door": "зчитувач карток",
    "kind.occupancy": "датчик",
    "alerts.none": "Відкритих попереджень немає.",
    "alert.forced": "Двері відчинено силою",
    "alert.held_open": "Двері відчинені надто довго",
    "alert.fire_release": "Пожежна тривога – двері відчинено",
    "alert.device_offline": "Пристрій не відповідає",
    "alert.over_capacity": "Перевищено місткість зали",
    "alert.booked_empty": "Заброньована зала досі порожня",
    "alert.tamper": "Втручання у зчитувач",
    "alert.too_many_attempts": "Картку заблоковано після забагатьох спроб",
    "alert.unknown_card_flood": "Лавина невідомих карток біля зчитувача",
    "alert.door_mode_mismatch": "Двері не застосовують заданий режим",
    "alert.modes": "заданий: {requested}, застосований: {actual}",
    "health.lag": (
        "Сервер відстає з обробкою дверей на {lag} с: двері можуть не отримати відповідь вчасно."
    ),
    "health.dead": "Повідомлення пристроїв, які не вдалося записати: {count}.",
    "health.link": "Переглянути список",
    "health.readonly": (
        "База даних не приймає записів: проходи й події пристроїв зараз не записуються."
    ),
    # -- the unrecorded device messages' page (`/reception/dead-letters`)
    "dl.nav": "Незаписані повідомлення",
    "dl.title": "Незаписані повідомлення пристроїв",
    "dl.intro": (
        "Повідомлення від зчитувачів і датчиків, які сервер не зміг записати (наприклад, "
        "коли база даних була заповнена). Коли причину усунуто, запишіть їх повторно; "
        "повідомлення, яке записати неможливо, відхиліть."
    ),
    "dl.when": "Отримано",
    "dl.device": "Пристрій",
    "dl.topic": "Тема",
    "dl.error": "Помилка",
    "dl.attempts": "Спроби",
    "dl.replay": "Записати повторно",
    "dl.discard": "Відхилити",
    "dl.none": "Незаписаних повідомлень немає.",
    "dl.done.replayed": "Повідомлення записано.",
    "dl.done.discarded": "Повідомлення відхилено.",
    "dl.err.unreadable": (
        "Це повідомлення неможливо прочитати (змінився ключ карток). Його можна відхилити."
    ),
    "dl.err.never": "Це повідомлення неможливо записати. Його можна відхилити.",
    "dl.err.again": "Запис знову не вдався. Повідомлення й далі чекає.",
    "dl.err.busy": "База даних не прийняла запис. Спробуйте за хвилину.",
    "dl.err.no_ingest": "Цей сервер зараз не отримує повідомлень пристроїв. Спробуйте за хвилину.",
    "reason.staff": "персонал",
    "reason.membership": "членство",
    "reason.booking": "бронювання",
    "reason.walk_in": "вільну залу зайнято карткою",
    "reason.unknown_card": "невідома картка",
    "reason.card_revoked": "картку анульовано",
    "reason.member_suspended": "обліковий запис призупинено",
    "reason.outside_hours": "поза годинами роботи",
    "reason.no_membership": "немає членства",
    "reason.room_booked": "залу забронював хтось інший",
    "reason.booking_released": "бронювання знято",
    "reason.no_access": "немає доступу",
    "reason.unknown_door": "невідомі двері",
    "reason.locked_down": "двері заблоковано",
    "reason.too_many_attempts": "забагато спроб",
    "reason.policy_stale": "правила контролера в будівлі застаріли",
    # -- pages: the dashboard as a receptionist reads it (evidence, building, severity, errors)
    "state.checked_in_unseen": "Бронювання триває, нікого не видно",
    "evidence.people": "людей у залі: {people}",
    "evidence.motion": "рух {minutes} хв тому",
    "evidence.motion_now": "рух зараз",
    "section.building": "Будівля",
    "building.people": "У будівлі",
    "building.counter": "за лічильником входів",
    "kind.pir": "датчик руху",
    "kind.counter": "лічильник входів",
    "severity.critical": "Терміново",
    "severity.warning": "Увага",
    "severity.notice": "Інформація",
    "error.conflict": (
        "стан уже змінився (наприклад, бронювання вже скасовано або завершено); оновіть сторінку"
    ),
    "error.not_found": "цього вже немає (наприклад, бронювання видалено)",
    "error.forbidden": "у вас немає прав на цю дію",
    "error.session": "сеанс завершився – увійдіть знову",
    "error.invalid": "неправильні дані",
    "error.busy": "забагато спроб – спробуйте за хвилину",
    "error.server": "помилка сервера – спробуйте ще раз",
    "error.network": "немає з’єднання з сервером",
    # -- pages: the utilisation chart (`GET /api/reports/utilisation.svg`)
    "chart.title": "Використання залів {first} – {last}",
    "chart.desc": (
        "Стовпчикова діаграма: для кожного залу години бронювання, години "
        "використання за даними датчиків і години неявок (бронювання, звільнені, бо ніхто "
        "не прийшов), {first} – {last}."
    ),
    "chart.booked": "Заброньовано",
    "chart.used": "Використано (датчики)",
    "chart.no_show": "Неявки",
    "chart.unit": "год",
    "chart.decimal": ",",
    # -- notices to members: `notice.<kind>`
    "notice.reminder": (
        "Нагадування: ваше бронювання ({room}, {start:%H:%M}) буде знято о "
        "{release_at:%H:%M}, якщо ви не відмітитеся карткою біля дверей."
    ),
    "notice.released": (
        "Ваше бронювання ({room}, {start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}) знято, "
        "бо до {release_at:%H:%M} ніхто не відмітився карткою біля дверей. Зала знову "
        "доступна для спільноти. Зараховано неявку: {count} з {limit} протягом {window}."
    ),
    "notice.released_by_staff": (
        "Персонал зняв ваше бронювання зали {room} ({start:%d.%m.%Y}, "
        "{start:%H:%M}–{end:%H:%M}). Неявку не зараховано."
    ),
    "notice.booking_suspended": (
        "Після {count} неявок протягом {window} ви не можете бронювати зали до "
        "{until:%d.%m.%Y %H:%M}. Ваші картки та членство й далі відчиняють двері."
    ),
    # "час" (time), so the sentence agrees with any room's name in gender.
    "notice.offer": "Є вільний час: {room}, {span}. Підтвердьте до {by}, щоб його забронювати.",
    "offer.part": "{span} (частина часу {wanted}, на який ви чекаєте)",
    "period.last_day": "останньої доби",
    "period.last_days": "останніх {n} днів",
    "period.last_hours": "останніх {n} год",
    "period.last_minutes": "останніх {n} хв",
}
