# ruff: noqa: RUF001, E501  (Russian wording is not a homoglyph attack; template lines read best unbroken)
"""The words of the built-in templates (data/template_seeds.py makes them into templates): for each kind, in
English and Russian, the email's subject and paragraphs and the SMS; and the greeting, sign-off and branch
phrase that every email and batch message shares."""

from __future__ import annotations

from services.notifications.domain.kinds import Kind

# kind -> locale -> (subject, paragraphs of the email, SMS)
WORDS: dict[Kind, dict[str, tuple[str, list[str], str]]] = {}
GREETING = {
    "en": "Dear {{ display_name or 'reader' }},",
    "ru": "{{ display_name or 'Уважаемый читатель' }}, здравствуйте!",
}
SIGN_OFF = {"en": "— {{ library_name }}", "ru": "— {{ library_name }}"}
BRANCH = {
    "en": "{% if branch %} at the {{ branch }} branch{% endif %}",
    "ru": "{% if branch %} в отделении «{{ branch }}»{% endif %}",
}


def _words(kind: Kind, en: tuple[str, list[str], str], ru: tuple[str, list[str], str]) -> None:
    WORDS[kind] = {"en": en, "ru": ru}


_words(
    Kind.HOLD_READY,
    ("“{{ book_title }}” is waiting for you", [
        "“{{ book_title }}”, which you reserved, is on the hold shelf" + BRANCH["en"] + ".",
        "Please pick it up by {{ pickup_deadline }}; after that the hold expires.",
    ], "{{ library_name }}: “{{ book_title }}” is ready for pickup" + BRANCH["en"] + " until {{ pickup_deadline }}."),
    ("Книга ждёт вас: «{{ book_title }}»", [
        "Книга «{{ book_title }}», которую вы бронировали, отложена для вас" + BRANCH["ru"] + ".",
        "Заберите её до {{ pickup_deadline }}; потом бронь истечёт.",
    ], "{{ library_name }}: книга «{{ book_title }}» ждёт вас" + BRANCH["ru"] + " до {{ pickup_deadline }}."),
)  # fmt: skip
_words(
    Kind.HOLD_EXPIRING,
    ("Last chance to pick up “{{ book_title }}”", [
        "“{{ book_title }}” is still waiting for you" + BRANCH["en"] + ", but only until {{ pickup_deadline }}.",
    ], "{{ library_name }}: pick up “{{ book_title }}” by {{ pickup_deadline }} or the hold expires."),
    ("Успейте забрать «{{ book_title }}»", [
        "Книга «{{ book_title }}» ещё ждёт вас" + BRANCH["ru"] + ", но только до {{ pickup_deadline }}.",
    ], "{{ library_name }}: заберите книгу «{{ book_title }}» до {{ pickup_deadline }}, иначе бронь истечёт."),
)  # fmt: skip
_words(
    Kind.HOLD_EXPIRED,
    ("Your hold on “{{ book_title }}” has expired", [
        "“{{ book_title }}” was not picked up in time" + BRANCH["en"] + ", so the hold has expired"
        "{% if passed_on == 'yes' %} and the copy went to the next reader waiting for it"
        "{% elif passed_on == 'no' %} and the copy went back on the shelf"
        "{% else %} and the copy is no longer set aside for you{% endif %}.",
        "You are welcome to place a new hold.",
    ], "{{ library_name }}: your hold on “{{ book_title }}” expired; place a new one any time."),
    ("Бронь на «{{ book_title }}» истекла", [
        "Книгу «{{ book_title }}» не забрали вовремя" + BRANCH["ru"] + ", поэтому бронь истекла"
        "{% if passed_on == 'yes' %} и экземпляр передан следующему читателю в очереди"
        "{% elif passed_on == 'no' %} и экземпляр вернулся на полку"
        "{% else %} и экземпляр больше не отложен для вас{% endif %}.",
        "Вы можете забронировать её снова.",
    ], "{{ library_name }}: бронь на «{{ book_title }}» истекла; её можно оформить заново."),
)  # fmt: skip
_words(
    Kind.HOLD_CANCELLED,
    ("Your hold on “{{ book_title }}” was cancelled", [
        "The library cancelled your hold on “{{ book_title }}”" + BRANCH["en"] + "{% if reason %}: {{ reason }}{% endif %}.",
        "The copy is no longer set aside for you, so there is no need to come for it. You are welcome to place a new hold.",
    ], "{{ library_name }}: your hold on “{{ book_title }}” was cancelled{% if reason %} ({{ reason }}){% endif %}; the copy is not waiting for you."),
    ("Бронь на «{{ book_title }}» отменена", [
        "Библиотека отменила вашу бронь на книгу «{{ book_title }}»" + BRANCH["ru"] + "{% if reason %}: {{ reason }}{% endif %}.",
        "Экземпляр больше не отложен для вас, приходить за ним не нужно. Вы можете забронировать книгу снова.",
    ], "{{ library_name }}: бронь на «{{ book_title }}» отменена{% if reason %} ({{ reason }}){% endif %}; экземпляр вас не ждёт."),
)  # fmt: skip
_words(
    Kind.HOLD_REQUEUED,
    ("Your hold on “{{ book_title }}” is back in the queue", [
        "Your hold on “{{ book_title }}”" + BRANCH["en"] + " is back in the queue: {% if why == 'may_not_borrow' %}the copy that came for you was passed on, as your account may not borrow at the moment{% else %}the copy {% if was_ready %}set aside for you on the hold shelf{% else %}on its way to you{% endif %} {% if why == 'damaged' %}was found damaged{% elif why == 'withdrawn' %}was withdrawn{% else %}could not be found{% endif %}{% endif %}.",
        "It keeps its place in the queue, and we will tell you when another copy is waiting for you.{% if was_ready %} Please do not come for the one we told you of: it is no longer on the hold shelf.{% endif %}{% if why == 'may_not_borrow' %} Please contact the library about your account.{% endif %}",
    ], "{{ library_name }}: your hold on “{{ book_title }}” is back in the queue ({% if why == 'may_not_borrow' %}your account may not borrow now{% elif why == 'damaged' %}the copy was damaged{% elif why == 'withdrawn' %}the copy was withdrawn{% else %}the copy is missing{% endif %}){% if was_ready %}; no need to come for it{% endif %}. We will tell you when a copy is ready."),
    ("Бронь на «{{ book_title }}» снова в очереди", [
        "Ваша бронь на книгу «{{ book_title }}»" + BRANCH["ru"] + " снова в очереди: {% if why == 'may_not_borrow' %}поступивший для вас экземпляр передан дальше, так как ваша учётная запись сейчас не может брать книги{% else %}экземпляр, {% if was_ready %}отложенный для вас на полке брони{% else %}который направлялся к вам{% endif %}, {% if why == 'damaged' %}оказался повреждён{% elif why == 'withdrawn' %}списан{% else %}не удалось найти{% endif %}{% endif %}.",
        "Бронь сохраняет своё место в очереди, и мы сообщим, когда для вас будет отложен другой экземпляр.{% if was_ready %} Приходить за прежним не нужно: его больше нет на полке брони.{% endif %}{% if why == 'may_not_borrow' %} Пожалуйста, обратитесь в библиотеку по поводу вашей учётной записи.{% endif %}",
    ], "{{ library_name }}: бронь на «{{ book_title }}» снова в очереди ({% if why == 'may_not_borrow' %}вам пока нельзя брать книги{% elif why == 'damaged' %}экземпляр повреждён{% elif why == 'withdrawn' %}экземпляр списан{% else %}экземпляр не найден{% endif %}){% if was_ready %}; за книгой не приходите.{% else %}. Сообщим о новом экземпляре.{% endif %}"),
)  # fmt: skip
_words(
    Kind.HOLD_PICKUP_CHANGED,
    ("Pick up “{{ book_title }}” at the {{ branch }} branch", [
        "The library changed where you will pick up “{{ book_title }}”, which you reserved: the {{ branch }} branch{% if previous_branch %}, not {{ previous_branch }}{% endif %}.",
        "Your hold keeps its place in the queue, and we will tell you when a copy is waiting for you there. You can choose another branch on your account page or at the desk.",
    ], "{{ library_name }}: your hold on “{{ book_title }}” is now to be picked up at the {{ branch }} branch{% if previous_branch %}, not {{ previous_branch }}{% endif %}; it keeps its place in the queue."),
    ("Бронь на «{{ book_title }}»: новое отделение выдачи — «{{ branch }}»", [
        "Библиотека изменила отделение, где вы получите забронированную книгу «{{ book_title }}»: теперь это «{{ branch }}»{% if previous_branch %}, а не «{{ previous_branch }}»{% endif %}.",
        "Бронь сохраняет своё место в очереди, и мы сообщим, когда экземпляр будет ждать вас там. Выбрать другое отделение можно на странице учётной записи или у библиотекаря.",
    ], "{{ library_name }}: бронь на «{{ book_title }}» — теперь в отделении «{{ branch }}»{% if previous_branch %} (было «{{ previous_branch }}»){% endif %}, очередь сохранена."),
)  # fmt: skip
_words(
    Kind.DUE_SOON,
    ("“{{ book_title }}” is due {{ due_date }}", [
        "A reminder: “{{ book_title }}” (barcode {{ barcode }}) is due back by {{ due_date }}.",
        "Return it" + BRANCH["en"] + "{% if can_renew %} or renew it online if you need more time{% endif %}.",
    ], "{{ library_name }}: “{{ book_title }}” is due {{ due_date }}.{% if can_renew %} Renew online if you need more time.{% endif %}"),
    ("Срок возврата «{{ book_title }}»: {{ due_date }}", [
        "Напоминаем: книгу «{{ book_title }}» (штрихкод {{ barcode }}) нужно вернуть до {{ due_date }}.",
        "Верните её" + BRANCH["ru"] + "{% if can_renew %} или продлите онлайн, если нужно больше времени{% endif %}.",
    ], "{{ library_name }}: книгу «{{ book_title }}» нужно вернуть до {{ due_date }}.{% if can_renew %} Продлить можно онлайн.{% endif %}"),
)  # fmt: skip
_words(
    Kind.OVERDUE,
    ("Overdue: “{{ book_title }}”", [
        "“{{ book_title }}” (barcode {{ barcode }}) was due on {{ due_date }} and is {{ overdue_days }} day(s) late.",
        "Please return it" + BRANCH["en"] + " as soon as you can; fines may apply.",
    ], "{{ library_name }}: “{{ book_title }}” is {{ overdue_days }} day(s) overdue (due {{ due_date }}). Please return it."),
    ("Просрочен возврат: «{{ book_title }}»", [
        "Книгу «{{ book_title }}» (штрихкод {{ barcode }}) нужно было вернуть {{ due_date }}; просрочка — {{ overdue_days }} дн.",
        "Пожалуйста, верните её" + BRANCH["ru"] + " как можно скорее; может начисляться штраф.",
    ], "{{ library_name }}: возврат «{{ book_title }}» просрочен на {{ overdue_days }} дн. (срок {{ due_date }}). Верните книгу."),
)  # fmt: skip
_words(
    Kind.LOAN_ISSUED,
    ("You borrowed “{{ book_title }}”", [
        "You borrowed “{{ book_title }}” (barcode {{ barcode }})" + BRANCH["en"] + ".", "It is due back by {{ due_date }}.",
    ], "{{ library_name }}: you borrowed “{{ book_title }}”, due {{ due_date }}."),
    ("Вы взяли «{{ book_title }}»", [
        "Вы взяли книгу «{{ book_title }}» (штрихкод {{ barcode }})" + BRANCH["ru"] + ".", "Верните её до {{ due_date }}.",
    ], "{{ library_name }}: вы взяли «{{ book_title }}», срок возврата {{ due_date }}."),
)  # fmt: skip
_words(
    Kind.LOAN_RETURNED,
    ("You returned “{{ book_title }}”", [
        "Thank you: “{{ book_title }}” (barcode {{ barcode }}) is back.",
        "{% if fine_amount %}It was {{ overdue_days }} day(s) late; a fine of {{ fine_amount }} was added.{% endif %}",
    ], "{{ library_name }}: “{{ book_title }}” returned. Thank you!"),
    ("Вы вернули «{{ book_title }}»", [
        "Спасибо: книга «{{ book_title }}» (штрихкод {{ barcode }}) возвращена.",
        "{% if fine_amount %}Просрочка {{ overdue_days }} дн.; начислен штраф {{ fine_amount }}.{% endif %}",
    ], "{{ library_name }}: возврат принят: «{{ book_title }}». Спасибо!"),
)  # fmt: skip
_words(
    Kind.LOAN_RENEWED,
    ("“{{ book_title }}” renewed until {{ due_date }}", [
        "“{{ book_title }}” is now due back by {{ due_date }} (it was {{ previous_due_date }}).",
    ], "{{ library_name }}: “{{ book_title }}” renewed, now due {{ due_date }}."),
    ("Продлён срок возврата: «{{ book_title }}», до {{ due_date }}", [
        "Книгу «{{ book_title }}» теперь нужно вернуть до {{ due_date }} (было {{ previous_due_date }}).",
    ], "{{ library_name }}: продлён срок возврата «{{ book_title }}» до {{ due_date }}."),
)  # fmt: skip
_words(
    Kind.FINE_ASSESSED,
    ("A fine of {{ amount }} {{ currency }}", [
        "A fine of {{ amount }} {{ currency }} was added to your account{% if book_title %} for “{{ book_title }}”{% endif %}.",
        "{{ description }}", "You can pay it at any branch.",
    ], "{{ library_name }}: a fine of {{ amount }} {{ currency }} was added to your account."),
    ("Штраф {{ amount }} {{ currency }}", [
        "На ваш счёт начислен штраф {{ amount }} {{ currency }}{% if book_title %} за «{{ book_title }}»{% endif %}.",
        "{{ description }}", "Оплатить его можно в любом отделении.",
    ], "{{ library_name }}: начислен штраф {{ amount }} {{ currency }}."),
)  # fmt: skip
_words(
    Kind.WELCOME,
    ("Welcome to {{ library_name }}", [
        "Your account is ready. Your library card number is {{ card_number }}.",
        "Borrow, renew and reserve books online; we will tell you when something needs your attention.",
    ], "Welcome to {{ library_name }}! Your card number: {{ card_number }}."),
    ("Добро пожаловать в {{ library_name }}", [
        "Ваша учётная запись готова. Номер читательского билета: {{ card_number }}.",
        "Берите, продлевайте и бронируйте книги онлайн; мы сообщим, когда потребуется ваше внимание.",
    ], "Добро пожаловать в {{ library_name }}! Номер билета: {{ card_number }}."),
)  # fmt: skip
_words(
    Kind.PASSWORD_CHANGED,
    ("Your password was changed", [
        "The password of your account was changed on {{ changed_at }}, and your other sessions were signed out.",
        "If it was not you, contact the library at once.",
    ], "{{ library_name }}: your password was changed. Not you? Contact the library."),
    ("Ваш пароль изменён", [
        "Пароль вашей учётной записи изменён {{ changed_at }}; другие сеансы завершены.",
        "Если это были не вы, немедленно свяжитесь с библиотекой.",
    ], "{{ library_name }}: ваш пароль изменён. Не вы? Свяжитесь с библиотекой."),
)  # fmt: skip
_RESET_LINK = "{{ web_url }}/#/reset-password?token={{ reset_token }}"
_words(
    Kind.PASSWORD_RESET,
    ("Reset your password", [
        "Someone, we hope you, asked to reset the password of your account.",
        "To choose a new one, open this link by {{ expires_at }}: " + _RESET_LINK,
        "It works once. If you did not ask, ignore this message: your password stays as it is.",
    ], "{{ library_name }}: a password reset was asked for; the link is in your email."),
    ("Сброс пароля", [
        "Кто-то — надеемся, вы — попросил сбросить пароль вашей учётной записи.",
        "Чтобы задать новый, откройте эту ссылку до {{ expires_at }}: " + _RESET_LINK,
        "Ссылка действует один раз. Если вы не просили, просто не обращайте внимания на это письмо: пароль останется прежним.",
    ], "{{ library_name }}: запрошен сброс пароля; ссылка — в письме."),
)  # fmt: skip
_words(
    Kind.SESSION_REVOKED,
    ("We signed you out to protect your account", [
        "On {{ revoked_at }} a sign-in token of your account was used twice, which happens when it is stolen.",
        "We signed that session out. If you see this often, change your password.",
    ], "{{ library_name }}: we signed out a session of yours that looked stolen. Consider changing your password."),
    ("Мы завершили сеанс для защиты учётной записи", [
        "{{ revoked_at }} токен входа вашей учётной записи был использован дважды — так бывает при краже.",
        "Мы завершили этот сеанс. Если это повторяется, смените пароль.",
    ], "{{ library_name }}: мы завершили подозрительный сеанс. Рекомендуем сменить пароль."),
)  # fmt: skip
_words(
    Kind.EMAIL_CHANGED,
    ("The email address of your account was changed", [
        "On {{ changed_at }} the email address of your account was changed to {{ new_email }}. This notice goes to the address it had before.",
        "If it was not you, contact the library at once: notices about your account now go to the new address.",
    ], "{{ library_name }}: the email of your account was changed to {{ new_email }}. Not you? Contact the library."),
    ("Адрес электронной почты изменён", [
        "{{ changed_at }} адрес электронной почты вашей учётной записи изменён на {{ new_email }}. Это письмо отправлено на прежний адрес.",
        "Если это были не вы, немедленно свяжитесь с библиотекой: уведомления об учётной записи теперь уходят на новый адрес.",
    ], "{{ library_name }}: почта изменена на {{ new_email }}. Не вы? Сообщите в библиотеку."),
)  # fmt: skip
_words(
    Kind.PHONE_CHANGED,
    ("The phone number of your account was changed", [
        "On {{ changed_at }} the phone number of your account was {% if new_phone %}changed to {{ new_phone }}{% else %}removed{% endif %}.",
        "If it was not you, contact the library at once.",
    ], "{{ library_name }}: the phone number of your account was {% if new_phone %}changed to {{ new_phone }}{% else %}removed{% endif %}. Not you? Contact the library."),
    ("Номер телефона изменён", [
        "{{ changed_at }} номер телефона вашей учётной записи {% if new_phone %}изменён на {{ new_phone }}{% else %}удалён{% endif %}.",
        "Если это были не вы, немедленно свяжитесь с библиотекой.",
    ], "{{ library_name }}: номер телефона вашей учётной записи {% if new_phone %}изменён на {{ new_phone }}{% else %}удалён{% endif %}. Не вы? Свяжитесь с библиотекой."),
)  # fmt: skip
_BOOK_LINK = "{{ web_url }}/#/books/{{ book_id }}"
"""The book's page in the web client (no link when the service has no web URL)."""
_AUTHOR_LINK = "{{ web_url }}/#/?q={{ author|urlencode }}"
"""The catalogue searched for the author: where a digest's books are (it names only the first few)."""
# A digest (the later books of an hour by a followed author) has `book_titles`; a notice of one book has not.
_words(
    Kind.NEW_BOOK_BY_AUTHOR,
    ("{% if book_titles %}{{ book_count }} more new books by {{ author }}{% else %}New from {{ author }}: “{{ book_title }}”{% endif %}", [
        "{% if book_titles %}More new books by {{ author }} have come to the library: {{ book_titles }}.{% endif %}",
        "{% if not book_titles %}“{{ book_title }}” by {{ authors or author }} has just come to the library.{% endif %}",
        "{% if web_url and book_titles %}See them, and reserve them, here: " + _AUTHOR_LINK + "{% endif %}",
        "{% if web_url and not book_titles %}See it, and reserve it, here: " + _BOOK_LINK + "{% endif %}",
        "You get this because you follow {{ author }}; you can unfollow on your account page.",
    ], "{{ library_name }}: {% if book_titles %}{{ book_count }} more new books by {{ author }}: {{ book_titles }}.{% if web_url %} " + _AUTHOR_LINK + "{% endif %}"
       "{% else %}new from {{ author }}: “{{ book_title }}”.{% if web_url %} " + _BOOK_LINK + "{% endif %}{% endif %}"),
    ("{% if book_titles %}Ещё новые книги ({{ book_count }}): {{ author }}{% else %}Новинка: {{ author }}, «{{ book_title }}»{% endif %}", [
        "{% if book_titles %}В библиотеку поступили ещё новые книги ({{ author }}): {{ book_titles }}.{% endif %}",
        "{% if not book_titles %}В библиотеку поступила новая книга: {{ authors or author }}, «{{ book_title }}».{% endif %}",
        "{% if web_url and book_titles %}Посмотреть и забронировать их можно здесь: " + _AUTHOR_LINK + "{% endif %}",
        "{% if web_url and not book_titles %}Посмотреть и забронировать её можно здесь: " + _BOOK_LINK + "{% endif %}",
        "Вы получили это письмо, потому что подписались на новые книги этого автора ({{ author }}); отписаться можно на странице учётной записи.",
    ], "{{ library_name }}: {% if book_titles %}ещё новые книги ({{ author }}): {{ book_titles }}."
       "{% else %}новинка — {{ authors or author }}, «{{ book_title }}».{% if web_url %} " + _BOOK_LINK + "{% endif %}{% endif %}"),
)  # fmt: skip
_words(
    Kind.MESSAGE,
    ("{{ subject }}", ["{{ body }}"], "{{ library_name }}: {{ body }}"),
    ("{{ subject }}", ["{{ body }}"], "{{ library_name }}: {{ body }}"),
)  # fmt: skip
