"""The reception desk's words, continued, in Ukrainian (server.notify.texts.desk)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- a member's data (GDPR), administrators only
    "gdpr.title": "Персональні дані (GDPR)",
    "gdpr.intro": (
        "Лише для адміністраторів. Завантаження і видалення даних записуються в журнал змін."
    ),
    "gdpr.export": "Завантажити дані (JSON)",
    "gdpr.erase": "Видалити персональні дані",
    "gdpr.erase_ask": "Видалити персональні дані: {name}?",
    "gdpr.erase_means": (
        "Ім'я зміниться на #{id}; e-mail, дані опікуна і призупинення буде очищено; картки "
        "буде видалено (жодні двері їх не відчинять); облікові записи учасника буде "
        "вимкнено; сповіщення, листи, пропозиції та місця в черзі очікування буде видалено; "
        "майбутні бронювання буде скасовано. Входи, минулі бронювання і неявки залишаться "
        "лише під номером учасника."
    ),
    "gdpr.erase_final": "Цього не можна скасувати.",
    "gdpr.erase_go": "Видалити персональні дані назавжди",
    "gdpr.erased_already": "Персональні дані цього учасника вже видалено.",
    "gdpr.back": "Назад до сторінки учасника",
    # -- a user's account (`/reception/accounts/{id}`)
    "useredit.edit": "Змінити",
    "useredit.title": "Обліковий запис: {name}",
    "useredit.back": "← Усі облікові записи",
    "useredit.details": "Дані облікового запису",
    "useredit.member_hint": "Лише для ролі «Учасник»: номер учасника, яким є ця особа.",
    "useredit.password": "Новий пароль (необов'язково)",
    "useredit.password_hint": (
        "Залиште порожнім, щоб не змінювати. Щонайменше 10 символів; особа також може "
        "увійти за посиланням, надісланим електронною поштою."
    ),
    "useredit.access": "Доступ",
    "useredit.disable_means": "Вимкнення одразу завершує сесії та API-токени цієї особи.",
    "useredit.enable": "Увімкнути",
    # -- adding someone to the waitlist (`/reception/waitlist`)
    "waitjoin.title": "Додати до черги очікування",
    "waitjoin.intro": (
        "Коли зала звільниться в цей час, учасник отримає пропозицію (електронною поштою і "
        "в порталі)."
    ),
    "waitjoin.any_similar": "Або будь-яка схожа зала (того ж типу, щонайменше стільки ж місць)",
    "waitjoin.go": "Додати до черги",
    "desk.wl.done.joined": "Додано до черги очікування.",
}
