"""Texts of the channels: e-mail subjects and bodies, Matrix, routing to the channel a person reads."""

DE = {
    "mail.measure": "M {measure}",
    "mail.subject_reminder": "Erinnerung: {items}",
    "mail.subject_notice": "Sozialmonitor: {text}",
    "mail.subject_error": "Sozialmonitor – Störung: {text}",
    "mail.subject_invitation": "Einladung: Besprechung {measure} am {when}",
    "mail.subject_moved": "Verlegt: Besprechung {measure} jetzt am {when}",
    "mail.subject_cancel": "Abgesagt: Besprechung {measure} am {when}",
    "mail.footer": "Diese Nachricht kommt vom Sozialmonitor der Fachstelle Sozialplanung.",
    "rem.no_channel": "weder Telegram-ID noch erreichbare Matrix-ID oder E-Mail-Adresse im Katalog",
    "channel.unreachable": (
        "{name} ist auf keinem eingerichteten Kanal erreichbar (Telegram, Matrix, E-Mail); die Nachricht „{kind}“ "
        "ging nur an die Fachstelle."
    ),
    "channel.name.telegram": "Telegram",
    "channel.name.matrix": "Matrix",
    "channel.name.email": "E-Mail",
    "matrix.started": "Sozialmonitor läuft in Matrix als {user_id}.",
    "matrix.denied_unknown": (
        "Dafür sind Sie nicht freigeschaltet. Bitte nennen Sie der Fachstelle Sozialplanung Ihre Matrix-ID {user_id}."
    ),
    "matrix.room_not_enabled": (
        "Dieser Raum ist für den Sozialmonitor nicht freigeschaltet. Bitte nennen Sie der Fachstelle Sozialplanung "
        "die Raum-ID {room_id}; sie trägt den Raum in den Einstellungen ([matrix] rooms) ein."
    ),
    "matrix.encrypted": (
        "Dieser Raum ist verschlüsselt; der Sozialmonitor liest nur unverschlüsselte Räume. Bitte schreiben Sie ihm "
        "in einem unverschlüsselten Direktchat."
    ),
    "matrix.token_rejected": (
        "Der Matrix-Server hat das Zugangs-Token abgelehnt. Bitte SOZIALMONITOR_MATRIX_TOKEN und [matrix] user_id "
        "prüfen."
    ),
    "matrix.waiting": "Der Matrix-Server ist nicht erreichbar ({what}); neuer Versuch in {seconds:.0f} s.",
    "email.started": "E-Mails gehen über {host}:{port} ({security}) hinaus.",
    "check.email_no_password": (
        "[email] user ist gesetzt, aber SOZIALMONITOR_SMTP_PASSWORD nicht: der SMTP-Server wird die Anmeldung "
        "ablehnen."
    ),
    "check.email_no_sender": "[email] host ist gesetzt, aber absender fehlt: E-Mails brauchen einen Absender.",
    "check.matrix_no_token": (
        "[matrix] homeserver ist gesetzt, aber SOZIALMONITOR_MATRIX_TOKEN nicht: ohne Zugangs-Token kann der "
        "Sozialmonitor nicht in Matrix schreiben."
    ),
    "check.matrix_no_user": "[matrix] homeserver ist gesetzt, aber user_id fehlt (z. B. \"@sozialmonitor:stadt.koblenz.de\").",
}

EN = {
    "mail.measure": "M {measure}",
    "mail.subject_reminder": "Reminder: {items}",
    "mail.subject_notice": "Sozialmonitor: {text}",
    "mail.subject_error": "Sozialmonitor – problem: {text}",
    "mail.subject_invitation": "Invitation: meeting {measure} on {when}",
    "mail.subject_moved": "Moved: meeting {measure} now on {when}",
    "mail.subject_cancel": "Cancelled: meeting {measure} on {when}",
    "mail.footer": "This message comes from the Sozialmonitor of the social planning unit.",
    "rem.no_channel": "no Telegram id and no reachable Matrix id or e-mail address in the catalogue",
    "channel.unreachable": (
        "{name} cannot be reached on any set-up channel (Telegram, Matrix, e-mail); the {kind} went to the social "
        "planning unit only."
    ),
    "channel.name.telegram": "Telegram",
    "channel.name.matrix": "Matrix",
    "channel.name.email": "e-mail",
    "matrix.started": "Sozialmonitor is running in Matrix as {user_id}.",
    "matrix.denied_unknown": (
        "You do not have access to this. Please give the social planning unit your Matrix id {user_id}."
    ),
    "matrix.room_not_enabled": (
        "This room is not enabled for the Sozialmonitor. Please give the social planning unit the room id "
        "{room_id}; it adds the room to the settings ([matrix] rooms)."
    ),
    "matrix.encrypted": (
        "This room is encrypted; the Sozialmonitor reads unencrypted rooms only. Please write to it in an "
        "unencrypted direct chat."
    ),
    "matrix.token_rejected": "The Matrix server rejected the access token. Please check SOZIALMONITOR_MATRIX_TOKEN and [matrix] user_id.",
    "matrix.waiting": "The Matrix server is not reachable ({what}); retrying in {seconds:.0f} s.",
    "email.started": "E-mail goes out through {host}:{port} ({security}).",
    "check.email_no_password": "[email] user is set but SOZIALMONITOR_SMTP_PASSWORD is not: the SMTP server will refuse the login.",
    "check.email_no_sender": "[email] host is set but absender is missing: e-mail needs a sender.",
    "check.matrix_no_token": "[matrix] homeserver is set but SOZIALMONITOR_MATRIX_TOKEN is not: without an access token the Sozialmonitor cannot write in Matrix.",
    "check.matrix_no_user": "[matrix] homeserver is set but user_id is missing (e.g. \"@sozialmonitor:stadt.koblenz.de\").",
}
