"""Texts of the Telegram front end and of `sozialmonitor run`."""

DE = {
    "bot.group_not_enabled": (
        "Diese Gruppe ist für den Sozialmonitor nicht freigeschaltet. Bitte nennen Sie der Fachstelle "
        "Sozialplanung die Chat-ID {chat_id}; sie trägt die Gruppe in den Einstellungen ein."
    ),
    "bot.error_notice": "Störung im Sozialmonitor ({what}). Einzelheiten stehen im Protokoll des Servers.",
    "bot.undeliverable": "Eine Nachricht an {recipient} konnte nicht zugestellt werden ({reason}).",
    "bot.no_telegram_id": (
        "{name} hat im Katalog keine telegram_id; die Nachricht „{kind}“ ging nur an die Fachstelle."
    ),
    "bot.kind.notice": "Hinweis",
    "bot.kind.reminder": "Erinnerung",
    "bot.kind.error": "Störung",
    "bot.started": "Sozialmonitor läuft als Telegram-Bot @{username}. Beenden mit Strg-C.",
    "bot.waiting": "Telegram ist nicht erreichbar ({what}); neuer Versuch in {seconds:.0f} s.",
    "bot.token_rejected": (
        "Telegram hat das Bot-Token abgelehnt. Bitte das Token von @BotFather in SOZIALMONITOR_TELEGRAM_TOKEN "
        "oder in sozialmonitor.toml prüfen."
    ),
    "bot.webhook_unavailable": (
        "Der Webhook-Modus ist nicht verfügbar ({detail}). Bitte python-telegram-bot[webhooks] installieren "
        "und webhook_url setzen, oder in sozialmonitor.toml mode = \"polling\" eintragen."
    ),
    "bot.undelivered_at_stop": "{n} Nachricht(en) konnten vor dem Beenden nicht mehr zugestellt werden.",
}

EN = {
    "bot.group_not_enabled": (
        "This group is not enabled for the Sozialmonitor. Please give the social planning unit the chat id "
        "{chat_id}; it adds the group to the settings."
    ),
    "bot.error_notice": "Sozialmonitor problem ({what}). Details are in the server log.",
    "bot.undeliverable": "A message to {recipient} could not be delivered ({reason}).",
    "bot.no_telegram_id": (
        "{name} has no telegram_id in the catalogue; the {kind} went to the social planning unit only."
    ),
    "bot.kind.notice": "notice",
    "bot.kind.reminder": "reminder",
    "bot.kind.error": "problem report",
    "bot.started": "Sozialmonitor is running as Telegram bot @{username}. Stop with Ctrl-C.",
    "bot.waiting": "Telegram is not reachable ({what}); retrying in {seconds:.0f} s.",
    "bot.token_rejected": (
        "Telegram rejected the bot token. Please check the token from @BotFather in "
        "SOZIALMONITOR_TELEGRAM_TOKEN or in sozialmonitor.toml."
    ),
    "bot.webhook_unavailable": (
        "Webhook mode is not available ({detail}). Install python-telegram-bot[webhooks] and set webhook_url, "
        "or set mode = \"polling\" in sozialmonitor.toml."
    ),
    "bot.undelivered_at_stop": "{n} message(s) could not be delivered before the stop.",
}
