"""Door panels' words (`/panel/...`) in Ukrainian (server.notify.texts.panel),
and the reception desk's page of panel links (`panel.desk.*`).

The keys and placeholders are those of the other languages' panel tables."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "panel.title": "Панель зали",
    "panel.status.free": "Вільна",
    "panel.status.booked": "Заброньована",
    "panel.status.in_use": "Зайнята",
    "panel.free_until": "Вільна до {time}",
    "panel.free_rest": "Сьогодні більше немає бронювань",
    "panel.now": "Зараз",
    "panel.next": "Наступне бронювання",
    "panel.none_next": "Більше бронювань немає",
    "panel.untitled": "Бронювання",
    "panel.times": "{start}–{end}",
    "panel.day_times": "{day}, {start}–{end}",
    "panel.checked_in": "присутність підтверджено",
    "panel.release": "Якщо ніхто не прикладе картку, бронювання буде знято о {time}.",
    "panel.checkin_hint": "Прикладіть картку до зчитувача, щоб підтвердити присутність.",
    "panel.countdown": "До зняття:",
    "panel.minutes_left": "{minutes} хв",
    "panel.clock": "{date}, {time}",
    "panel.qr_title": "Забронюйте цю залу",
    "panel.qr_alt": "QR-код: посилання для бронювання зали {room}",
    "panel.qr_hint": "Відскануйте код телефоном або відкрийте:",
    "panel.live.lost": "Немає з'єднання із сервером — пробую ще раз…",
    "panel.missing.title": "Такої панелі немає",
    "panel.missing.text": (
        "Адреса цієї панелі неправильна або застаріла. Попросіть на рецепції нове посилання."
    ),
    "panel.desk.title": "Панелі біля дверей зал",
    "panel.desk.nav": "Панелі",
    "panel.desk.intro": (
        "Відкрийте посилання зали в браузері планшета біля її дверей. Новий ключ одразу "
        "скасовує старе посилання: відкриті з ним панелі перестають працювати."
    ),
    "panel.desk.room": "Зала",
    "panel.desk.link": "Посилання панелі",
    "panel.desk.action": "Ключ",
    "panel.desk.rotate": "Новий ключ: {room}",
    "panel.desk.rotated": "Зала {room} має новий ключ панелі; старе посилання більше не працює.",
    "audit.action.room.panel_key": "Ключ панелі зали",
    "audit.action.room.calendar_keys": "Ключі календаря зали",
}
