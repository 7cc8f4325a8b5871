"""Texts of meetings, protocols, signatures, steps, the protocol folder and the reminders."""

DE = {
    # help lines (German = the docstrings; listed so both languages hold the same keys)
    "help.termin": "Besprechung einer Maßnahme ansetzen, verlegen, absagen oder als stattgefunden nachtragen.",
    "help.protokoll": "Festhalten, dass das Protokoll einer Besprechung zur Unterschrift versandt wurde (an dem Tag; Standard heute).",
    "help.unterschrieben": "Die eigene Unterschrift unter ein Protokoll festhalten; die Fachstelle auch eine auf Papier („für NAME“).",
    "help.protokolle": "Protokolle mit fehlenden Unterschriften, mit Namen.",
    "help.kalender": "Die Besprechungen als Kalenderdatei (.ics).",
    "help.schritte": "Die ausstehenden Schritte, nummeriert, mit Frist und Zuständigkeit (alle oder einer Maßnahme).",
    "help.schritt": "Einen ausstehenden Schritt anlegen oder als erledigt markieren (bleibt in der Historie).",
    "help.erinnerungen": "Die jetzt fälligen Erinnerungen; mit „senden“ werden sie sofort verschickt.",
    # weekdays
    "weekday.0": "Montag",
    "weekday.1": "Dienstag",
    "weekday.2": "Mittwoch",
    "weekday.3": "Donnerstag",
    "weekday.4": "Freitag",
    "weekday.5": "Samstag",
    "weekday.6": "Sonntag",
    # reminders
    "rem.title": "Erinnerung für {name}:",
    "rem.title_admins": "Erinnerungen für die Fachstelle:",
    "rem.admin_chat": "Admin-Chat",
    "rem.kind.termin": "Termin",
    "rem.kind.protokoll": "Protokoll",
    "rem.kind.lieferung": "Lieferung",
    "rem.kind.schritt": "Schritt",
    "rem.kind.terminierung": "Terminierung",
    "rem.kind.zusammenfassung": "Wochenübersicht",
    "rem.kind.ohne_telegram": "ohne Telegram",
    "rem.admins": "Fachstelle (Admins)",
    "rem.all_measures": "alle Maßnahmen",
    "rem.tomorrow": "morgen",
    "rem.in_days": "in {n} Tagen",
    "rem.at_time": " um {time} Uhr",
    "rem.meeting": "Besprechung zu {measure} {when}, am {weekday}, {day}{time}. Vorgehensweise: {approach}",
    "rem.protocol": (
        "Das Protokoll der Besprechung zu {measure} vom {day} (versandt am {sent}) ist von Ihnen noch nicht "
        "unterschrieben. Bitte unterschreiben und mit /unterschrieben {command} bestätigen."
    ),
    "rem.protocol_admins": (
        "Protokoll {measure} vom {day}: seit {days} Tagen (versandt am {sent}) fehlt die Unterschrift von {names}."
    ),
    "rem.delivery_soon": "Lieferung fällig am {due}: {indicator} für {period} ({measure}).",
    "rem.delivery_late": "Lieferung überfällig seit {due}: {indicator} für {period} ({measure}).",
    "rem.summary": "Wochenübersicht: {n} überfällige Lieferungen – {items}",
    "rem.summary_one": "Wochenübersicht: 1 überfällige Lieferung – {items}",
    "rem.summary_item": "{measure} {indicator} {period} (fällig {due}, {office})",
    "rem.summary_more": " … und {n} weitere (/lieferungen zeigt alle)",
    "rem.step": "Schritt {measure} Nr. {number} ist seit {due} überfällig: {text}{who}",
    "rem.unscheduled": "Die Besprechung zu {measure} ist noch nicht terminiert (/termin {command} TT.MM.JJJJ).",
    "rem.unreachable": "Nicht zustellbar an {name} ({reason}): {text}",
    "rem.no_person": "nicht im Katalog",
    "rem.no_telegram_id": "keine Telegram-ID im Katalog",
    "rem.blocked_holiday": "Heute ({day}) ist Feiertag ({name}); Erinnerungen gehen nur an Arbeitstagen hinaus.",
    "rem.blocked_weekend": "Heute ist {weekday}, der {day}; Erinnerungen gehen nur an Arbeitstagen hinaus.",
    "rem.blocked_hours": "Erinnerungen gehen nur zwischen {start} und {end} Uhr hinaus.",
    "rem.next_slot": "Nächster Versand: {weekday}, {day} ab {time} Uhr.",
    "rem.none_due": "Zurzeit ist keine Erinnerung fällig.",
    "rem.due_title": "Fällige Erinnerungen ({n}):",
    "rem.send_hint": "Mit /erinnerungen senden gehen sie sofort hinaus.",
    "rem.sent_title": "Versandt: {n} Erinnerungen an {recipients} Empfänger.",
    "rem.sent_title_one": "Versandt: 1 Erinnerung an 1 Empfänger.",
    "rem.bad_args": "„{found}“ verstehe ich nicht; erlaubt ist nur /erinnerungen oder /erinnerungen senden.",
    "rem.cli_none": "Keine Erinnerung fällig.",
    "rem.cli_no_admins": (
        "Hinweis: Im Katalog ist keine Person mit rolle = \"admin\" eingetragen und kein admin_chat gesetzt; "
        "Erinnerungen an die Fachstelle werden nur in der Konsole angezeigt."
    ),
    "rem.cli_sent": "Versandt: {n} Erinnerungen in {messages} Nachrichten.",
    "rem.cli_no_chat": "keine Telegram-ID im Katalog",
    "rem.cli_waiting": "{n} Nachricht(en) warten im Postausgang; der Sozialmonitor stellt sie beim nächsten Start zu.",
    "rem.cli_undelivered": (
        "Nicht zugestellt an {name} ({detail}): Telegram-ID im Katalog prüfen; die Person muss den Chat mit dem "
        "Bot einmal mit /start eröffnen."
    ),
    # meetings
    "mt.bad_date": "„{found}“ ist kein gültiges Datum; bitte TT.MM.JJJJ schreiben, z. B. 20.09.2018.",
    "mt.bad_time": "„{found}“ ist keine gültige Uhrzeit; bitte HH:MM schreiben, z. B. 10:00.",
    "mt.missing_date": "Bitte das Datum der Besprechung angeben, z. B. /termin M12 15.10.2018 10:00, oder /termin M12 absagen.",
    "mt.scheduled": "Besprechung zu {measure} angesetzt: {when}, Vorgehensweise: {approach}.",
    "mt.moved": "Besprechung zu {measure} verlegt vom {before} auf den {when}, Vorgehensweise: {approach}.",
    "mt.unchanged": "Die Besprechung zu {measure} ist bereits auf den {when} angesetzt; nichts geändert.",
    "mt.notice_new": "Neue Besprechung zu {measure}: {when}. Vorgehensweise: {approach}",
    "mt.notice_moved": "Die Besprechung zu {measure} wurde vom {before} auf den {when} verlegt. Vorgehensweise: {approach}",
    "mt.not_working_day": "Hinweis: Der {day} ist kein Arbeitstag ({what}).",
    "mt.participants": "Teilnehmende: {names}",
    "mt.no_participants": "Für {measure} ist im Katalog noch niemand als teilnehmend eingetragen (massnahmen = [...] bei [[person]]).",
    "mt.operator": "Fachstelle",
    "mt.no_meeting_on": "Zu {measure} gibt es keine Besprechung am {day}; eingetragen: {known}. Hat sie stattgefunden, zuerst nachtragen: /termin {command} {day}",
    "mt.protocol_args": "Bitte so angeben: /protokoll M21 20.09.2018 versandt (Datum der Besprechung), oder mit dem Versanddatum: /protokoll M21 20.09.2018 versandt 21.09.2018.",
    "mt.protocol_future": "Die Besprechung am {day} hat noch nicht stattgefunden; ihr Protokoll kann noch nicht versandt sein.",
    "mt.protocol_known": "Das Protokoll zu {measure} vom {day} ist bereits am {sent} versandt worden; es fehlen: {missing}.",
    "mt.protocol_recorded": "Protokoll zu {measure} vom {day} als am {sent} zur Unterschrift versandt erfasst.",
    "mt.signatories": "Unterschreiben müssen: {names}",
    "mt.notice_protocol": (
        "Das Protokoll der Besprechung zu {measure} vom {day} ist Ihnen zur Unterschrift zugegangen. "
        "Bitte unterschreiben und mit /unterschrieben {command} bestätigen."
    ),
    "mt.sign_args": "Bitte so angeben: /unterschrieben M21 oder /unterschrieben M21 24.09.2018 (Datum der Unterschrift); für eine Unterschrift auf Papier: /unterschrieben M21 für NAME am 24.09.2018.",
    "mt.sign_future": "Der {day} liegt in der Zukunft; bitte das Datum angeben, an dem Sie unterschrieben haben.",
    "mt.sign_no_person": "Die Unterschrift wird für die Person erfasst, die fragt; hier ist keine Person aus dem Katalog angemeldet (z. B. sozialmonitor ask --as NAME). Eine Unterschrift auf Papier: /unterschrieben Mxx für NAME am TT.MM.JJJJ.",
    "mt.no_protocol": "Für {measure} ist noch kein Protokoll zur Unterschrift versandt.",
    "mt.not_signatory": "Sie stehen nicht auf der Liste der Unterzeichnenden des Protokolls zu {measure} vom {day} (unterschreiben müssen: {names}).",
    "mt.already_signed": "Ihre Unterschrift unter das Protokoll zu {measure} vom {day} ist bereits erfasst (am {signed}).",
    "mt.sign_before_sent": "Am {day} war das Protokoll noch nicht versandt (versandt am {sent}); bitte das Datum prüfen.",
    "mt.signed": "Danke, {name}: Ihre Unterschrift unter das Protokoll zu {measure} vom {day} ist erfasst (unterschrieben am {signed}).",
    "mt.signed_progress": "{n} von {total} haben unterschrieben; es fehlen: {names}.",
    "mt.signed_complete": "Damit haben alle unterschrieben.",
    "mt.notice_complete": "Das Protokoll zu {measure} vom {day} ist jetzt von allen unterschrieben.",
    "mt.protocols_none": "Es ist noch kein Protokoll zur Unterschrift versandt.",
    "mt.protocols_complete": "Alle {n} versandten Protokolle sind vollständig unterschrieben.",
    "mt.protocols_title": "Protokolle mit fehlenden Unterschriften:",
    "mt.protocols_row": "vom {day} (versandt {sent}): {n}/{total} unterschrieben, es fehlen {names}",
    "mt.protocols_by_person": "Nach Person:",
    "mt.calendar_name": "Sozialmonitor – Besprechungen",
    "mt.calendar_summary": "Besprechung {measure}: {approach}",
    "mt.calendar_approach": "Vorgehensweise: {approach}",
    "mt.calendar_reply": "Die {n} angesetzten Besprechungen als Kalenderdatei:",
    # steps
    "st.title": "Ausstehende Schritte ({n}):",
    "st.none": "Es stehen keine Schritte aus.",
    "st.none_of": "Für {measure} stehen keine Schritte aus.",
    "st.due_late": " (bis {day}, überfällig)",
    "st.too_many": "„{found}“ verstehe ich nicht; bitte nur eine Maßnahme angeben, z. B. /schritte M21.",
    "st.missing_action": "Bitte „neu TEXT“ oder „erledigt N“ angeben, z. B. /schritt M21 erledigt 1.",
    "st.bad_action": "„{found}“ verstehe ich nicht; möglich sind „neu“ und „erledigt“.",
    "st.missing_text": "Bitte den Text des Schritts angeben, z. B. /schritt M21 neu Daten anfragen bis 30.11.2018.",
    "st.past_due": "Die Frist {day} liegt in der Vergangenheit; bitte ein Datum ab heute angeben.",
    "st.added": "Schritt {number} zu {measure} angelegt:",
    "st.bad_number": "„{found}“ ist keine Schrittnummer; /schritte zeigt die Nummern.",
    "st.no_such_step": "Einen offenen Schritt {number} gibt es zu {measure} nicht; offen sind: {open}.",
    "st.done": "Schritt {number} zu {measure} ist erledigt: {text}",
    # protocol folder
    "pf.announce": (
        "Das Protokoll der Besprechung zu {measure} vom {day} liegt zur Unterschrift bereit "
        "(Ablage: protokolle/{file}). Bitte unterschreiben und mit /unterschrieben {command} bestätigen."
    ),
    "pf.updated": (
        "Das Protokoll der Besprechung zu {measure} vom {day} wurde durch eine neue Fassung ersetzt "
        "(protokolle/{file}). Bitte die neue Fassung unterschreiben und mit /unterschrieben {command} bestätigen."
    ),
    "pf.reset": (
        "Das Protokoll der Besprechung zu {measure} vom {day} wurde geändert (neue Datei protokolle/{file}). "
        "Ein geändertes Protokoll muss neu unterschrieben werden; die bisherigen Unterschriften gelten nicht mehr. "
        "Bitte die neue Fassung unterschreiben und mit /unterschrieben {command} bestätigen."
    ),
    "pf.recorded_admins": "Protokoll zu {measure} vom {day} aus protokolle/{file} erfasst und an {n} Unterzeichnende gemeldet.",
    "pf.reset_admins": (
        "Protokoll zu {measure} vom {day} wurde durch protokolle/{file} ersetzt; die Unterschriften von {names} "
        "wurden zurückgesetzt und alle Unterzeichnenden benachrichtigt."
    ),
    "pf.no_signatories": "Protokoll zu {measure} vom {day} erfasst, aber im Katalog ist niemand als teilnehmend eingetragen.",
    "pf.bad_name": (
        "Die Datei protokolle/{file} passt nicht zum Namensschema Mxx_JJJJ-MM-TT….pdf|.docx|.odt "
        "(z. B. M21_2018-09-20_Protokoll.pdf) und wurde nicht als Protokoll erfasst."
    ),
    "pf.unknown_measure": "Die Datei protokolle/{file} nennt die Maßnahme {found}, die es nicht gibt; bekannt sind: {known}.",
    "pf.no_meeting": (
        "Die Datei protokolle/{file} passt zu keiner Besprechung: zu {measure} gibt es keine Besprechung am {day} "
        "(eingetragen: {known}). Hat sie stattgefunden, tragen Sie sie nach mit: /termin {command} {day} – "
        "die Datei wird danach beim nächsten Abgleich von selbst erfasst. Sonst bitte die Datei umbenennen."
    ),
    "pf.unreadable": "Die Datei protokolle/{file} lässt sich nicht lesen ({detail}).",
    # meetings: history, cancellation
    "mt.far_past": "Hinweis: Der {day} liegt mehr als {years} Jahre zurück – bitte das Jahr prüfen.",
    "mt.far_future": "Hinweis: Der {day} liegt mehr als {years} Jahre in der Zukunft – bitte das Jahr prüfen.",
    "mt.held_recorded": "Besprechung zu {measure} am {when} als stattgefunden eingetragen (Nachtrag), Vorgehensweise: {approach}.",
    "mt.held_unchanged": "Die Besprechung zu {measure} am {when} ist bereits als stattgefunden eingetragen; nichts geändert.",
    "mt.held_corrected": "Besprechung zu {measure} am {when} (stattgefunden) berichtigt, Vorgehensweise: {approach}.",
    "mt.held_quiet": "Ein Nachtrag: niemand wurde benachrichtigt, es folgen keine Terminerinnerungen.",
    "mt.held_protocol_hint": "Ging das Protokoll zur Unterschrift hinaus, so eintragen: /protokoll {command} {day} versandt TT.MM.JJJJ",
    "mt.cancel_nothing": "Zu {measure} ist keine Besprechung angesetzt, die abgesagt werden könnte.",
    "mt.cancelled": "Besprechung zu {measure} am {when} abgesagt (Vorgehensweise: {approach}); sie bleibt als abgesagt im Verlauf.",
    "mt.cancel_told": "Benachrichtigt: {names}",
    "mt.notice_cancelled": "Die Besprechung zu {measure} am {when} ist abgesagt.",
    "mt.cancel_unscheduled": "{measure} hat damit keine Besprechung mehr: noch nicht terminiert (/termin {command} TT.MM.JJJJ).",
    # protocols: the sending date
    "mt.protocol_sent_future": "Der {sent} liegt in der Zukunft; bitte den Tag angeben, an dem das Protokoll versandt wurde.",
    "mt.protocol_sent_early": "Das Protokoll kann nicht am {sent} versandt worden sein, vor der Besprechung am {day}.",
    "mt.protocol_sent_corrected": "Versanddatum des Protokolls zu {measure} vom {day} berichtigt: {sent} statt {before}.",
    "mt.protocol_history": (
        "Als Nachtrag erfasst: niemand wurde jetzt benachrichtigt. Auf Papier zurückgekommene Unterschriften "
        "tragen Sie mit /unterschrieben {command} {day} für NAME am TT.MM.JJJJ ein. Erinnerungen an fehlende "
        "Unterschriften gehen frühestens am {next} hinaus."
    ),
    # signatures on paper
    "mt.sign_for_admin": "Unterschriften für andere (auf Papier zurückgekommen) trägt die Fachstelle ein; Ihre eigene mit /{command} Mxx.",
    "mt.sign_for_args": "Bitte so angeben: /unterschrieben M21 für NAME am 24.09.2018 (oder /unterschrieben M21 20.09.2018 für NAME am 24.09.2018 für das Protokoll dieser Besprechung).",
    "mt.sign_for_ambiguous": "„{found}“ passt zu mehreren Personen: {names}. Bitte den Namen genauer angeben.",
    "mt.sign_for_unknown": "Eine Person „{found}“ steht weder im Katalog noch auf den Protokollen zu {measure} (unterschreiben müssen: {names}).",
    "mt.sign_no_protocol_on": "Zu {measure} gibt es kein Protokoll der Besprechung am {day}; Protokolle gibt es vom: {known}.",
    "mt.not_signatory_other": "{name} steht nicht auf der Liste der Unterzeichnenden des Protokolls zu {measure} vom {day} (unterschreiben müssen: {names}).",
    "mt.already_signed_other": "Die Unterschrift von {name} unter das Protokoll zu {measure} vom {day} ist bereits erfasst (am {signed}).",
    "mt.signed_paper": "Unterschrift von {name} unter das Protokoll zu {measure} vom {day} erfasst: auf Papier, unterschrieben am {signed}, eingetragen von {by}.",
}

EN = {
    "help.termin": "Schedule, move or cancel a measure's meeting, or record one that took place.",
    "help.protokoll": "Record that a meeting's protocol went out for signature (on that day; default today).",
    "help.unterschrieben": "Record your signature on a protocol; admins also one returned on paper (“for NAME”).",
    "help.protokolle": "Protocols with outstanding signatures, by name.",
    "help.kalender": "The meetings as a calendar file (.ics).",
    "help.schritte": "The outstanding steps, numbered, with due date and who (all, or of one measure).",
    "help.schritt": "Add an outstanding step or mark one done (kept in the history).",
    "help.erinnerungen": "The reminders due now; with “send” they go out at once.",
    "weekday.0": "Monday",
    "weekday.1": "Tuesday",
    "weekday.2": "Wednesday",
    "weekday.3": "Thursday",
    "weekday.4": "Friday",
    "weekday.5": "Saturday",
    "weekday.6": "Sunday",
    "rem.title": "Reminder for {name}:",
    "rem.title_admins": "Reminders for the social planning unit:",
    "rem.admin_chat": "admin chat",
    "rem.kind.termin": "meeting",
    "rem.kind.protokoll": "protocol",
    "rem.kind.lieferung": "delivery",
    "rem.kind.schritt": "step",
    "rem.kind.terminierung": "scheduling",
    "rem.kind.zusammenfassung": "weekly summary",
    "rem.kind.ohne_telegram": "no Telegram",
    "rem.admins": "admins",
    "rem.all_measures": "all measures",
    "rem.tomorrow": "tomorrow",
    "rem.in_days": "in {n} days",
    "rem.at_time": " at {time}",
    "rem.meeting": "Meeting on {measure} {when}, {weekday}, {day}{time}. Approach: {approach}",
    "rem.protocol": (
        "You have not yet signed the protocol of the meeting on {measure} of {day} (sent on {sent}). "
        "Please sign it and confirm with /signed {command}."
    ),
    "rem.protocol_admins": "Protocol {measure} of {day}: for {days} days (sent on {sent}) the signature of {names} is missing.",
    "rem.delivery_soon": "Delivery due on {due}: {indicator} for {period} ({measure}).",
    "rem.delivery_late": "Delivery overdue since {due}: {indicator} for {period} ({measure}).",
    "rem.summary": "Weekly summary: {n} overdue deliveries – {items}",
    "rem.summary_one": "Weekly summary: 1 overdue delivery – {items}",
    "rem.summary_item": "{measure} {indicator} {period} (due {due}, {office})",
    "rem.summary_more": " … and {n} more (/deliveries lists them all)",
    "rem.step": "Step {measure} no. {number} is overdue since {due}: {text}{who}",
    "rem.unscheduled": "The meeting on {measure} is not yet scheduled (/schedule {command} DD.MM.YYYY).",
    "rem.unreachable": "Could not reach {name} ({reason}): {text}",
    "rem.no_person": "not in the catalogue",
    "rem.no_telegram_id": "no Telegram id in the catalogue",
    "rem.blocked_holiday": "Today ({day}) is a public holiday ({name}); reminders go out on working days only.",
    "rem.blocked_weekend": "Today is {weekday}, {day}; reminders go out on working days only.",
    "rem.blocked_hours": "Reminders go out only between {start} and {end}.",
    "rem.next_slot": "Next sending: {weekday}, {day} from {time}.",
    "rem.none_due": "No reminder is due right now.",
    "rem.due_title": "Reminders due ({n}):",
    "rem.send_hint": "/reminders send sends them now.",
    "rem.sent_title": "Sent: {n} reminders to {recipients} recipients.",
    "rem.sent_title_one": "Sent: 1 reminder to 1 recipient.",
    "rem.bad_args": "I do not understand “{found}”; use /reminders or /reminders send.",
    "rem.cli_none": "No reminder due.",
    "rem.cli_no_admins": (
        "Note: the catalogue lists no person with rolle = \"admin\" and no admin_chat is set; "
        "reminders for the admins are only shown on the console."
    ),
    "rem.cli_sent": "Sent: {n} reminders in {messages} messages.",
    "rem.cli_no_chat": "no Telegram id in the catalogue",
    "rem.cli_waiting": "{n} message(s) wait in the outbox; Sozialmonitor delivers them at its next start.",
    "rem.cli_undelivered": (
        "Not delivered to {name} ({detail}): check the Telegram id in the catalogue; the person must open the "
        "chat with the bot once with /start."
    ),
    "mt.bad_date": "“{found}” is not a valid date; please write DD.MM.YYYY, e.g. 20.09.2018.",
    "mt.bad_time": "“{found}” is not a valid time; please write HH:MM, e.g. 10:00.",
    "mt.missing_date": "Please give the meeting's date, e.g. /schedule M12 15.10.2018 10:00, or /schedule M12 cancel.",
    "mt.scheduled": "Meeting on {measure} scheduled: {when}, approach: {approach}.",
    "mt.moved": "Meeting on {measure} moved from {before} to {when}, approach: {approach}.",
    "mt.unchanged": "The meeting on {measure} is already set for {when}; nothing changed.",
    "mt.notice_new": "New meeting on {measure}: {when}. Approach: {approach}",
    "mt.notice_moved": "The meeting on {measure} was moved from {before} to {when}. Approach: {approach}",
    "mt.not_working_day": "Note: {day} is not a working day ({what}).",
    "mt.participants": "Participants: {names}",
    "mt.no_participants": "The catalogue lists nobody as taking part in {measure} yet (massnahmen = [...] under [[person]]).",
    "mt.operator": "admins",
    "mt.no_meeting_on": "{measure} has no meeting on {day}; recorded: {known}. If it took place, record it first: /schedule {command} {day}",
    "mt.protocol_args": "Please write: /protocol M21 20.09.2018 sent (the meeting's date), or with the sending date: /protocol M21 20.09.2018 sent 21.09.2018.",
    "mt.protocol_future": "The meeting on {day} has not taken place yet; its protocol cannot have been sent.",
    "mt.protocol_known": "The protocol on {measure} of {day} was already sent on {sent}; missing: {missing}.",
    "mt.protocol_recorded": "Protocol on {measure} of {day} recorded as sent for signature on {sent}.",
    "mt.signatories": "To sign: {names}",
    "mt.notice_protocol": (
        "The protocol of the meeting on {measure} of {day} has been sent to you for signature. "
        "Please sign it and confirm with /signed {command}."
    ),
    "mt.sign_args": "Please write: /signed M21 or /signed M21 24.09.2018 (the day you signed); for a signature on paper: /signed M21 for NAME on 24.09.2018.",
    "mt.sign_future": "{day} is in the future; please give the day you signed.",
    "mt.sign_no_person": "The signature is recorded for the person asking; no catalogue person is signed in here (e.g. sozialmonitor ask --as NAME). A signature on paper: /signed Mxx for NAME on DD.MM.YYYY.",
    "mt.no_protocol": "No protocol on {measure} has been sent for signature yet.",
    "mt.not_signatory": "You are not on the list of signatories of the protocol on {measure} of {day} (to sign: {names}).",
    "mt.already_signed": "Your signature on the protocol on {measure} of {day} is already recorded (on {signed}).",
    "mt.sign_before_sent": "On {day} the protocol had not been sent yet (sent on {sent}); please check the date.",
    "mt.signed": "Thank you, {name}: your signature on the protocol on {measure} of {day} is recorded (signed on {signed}).",
    "mt.signed_progress": "{n} of {total} have signed; missing: {names}.",
    "mt.signed_complete": "Everyone has signed now.",
    "mt.notice_complete": "The protocol on {measure} of {day} is now signed by everyone.",
    "mt.protocols_none": "No protocol has been sent for signature yet.",
    "mt.protocols_complete": "All {n} protocols sent are fully signed.",
    "mt.protocols_title": "Protocols with outstanding signatures:",
    "mt.protocols_row": "of {day} (sent {sent}): {n}/{total} signed, missing {names}",
    "mt.protocols_by_person": "By person:",
    "mt.calendar_name": "Sozialmonitor – meetings",
    "mt.calendar_summary": "Meeting {measure}: {approach}",
    "mt.calendar_approach": "Approach: {approach}",
    "mt.calendar_reply": "The {n} scheduled meetings as a calendar file:",
    "st.title": "Outstanding steps ({n}):",
    "st.none": "No steps are outstanding.",
    "st.none_of": "No steps are outstanding for {measure}.",
    "st.due_late": " (by {day}, overdue)",
    "st.too_many": "I do not understand “{found}”; please name one measure only, e.g. /steps M21.",
    "st.missing_action": "Please write “new TEXT” or “done N”, e.g. /step M21 done 1.",
    "st.bad_action": "I do not understand “{found}”; use “new” or “done”.",
    "st.missing_text": "Please give the step's text, e.g. /step M21 new request data by 30.11.2018.",
    "st.past_due": "The due date {day} is in the past; please give a date from today on.",
    "st.added": "Step {number} of {measure} added:",
    "st.bad_number": "“{found}” is not a step number; /steps shows the numbers.",
    "st.no_such_step": "{measure} has no open step {number}; open are: {open}.",
    "st.done": "Step {number} of {measure} is done: {text}",
    "pf.announce": (
        "The protocol of the meeting on {measure} of {day} is ready for signature (shared folder: "
        "protokolle/{file}). Please sign it and confirm with /signed {command}."
    ),
    "pf.updated": (
        "The protocol of the meeting on {measure} of {day} was replaced by a new version (protokolle/{file}). "
        "Please sign the new version and confirm with /signed {command}."
    ),
    "pf.reset": (
        "The protocol of the meeting on {measure} of {day} has changed (new file protokolle/{file}). A changed "
        "protocol must be signed again; earlier signatures no longer count. Please sign the new version and "
        "confirm with /signed {command}."
    ),
    "pf.recorded_admins": "Protocol on {measure} of {day} recorded from protokolle/{file} and announced to {n} signatories.",
    "pf.reset_admins": (
        "Protocol on {measure} of {day} was replaced by protokolle/{file}; the signatures of {names} were reset "
        "and all signatories told."
    ),
    "pf.no_signatories": "Protocol on {measure} of {day} recorded, but the catalogue lists nobody as taking part.",
    "pf.bad_name": (
        "The file protokolle/{file} does not fit the naming scheme Mxx_YYYY-MM-DD….pdf|.docx|.odt "
        "(e.g. M21_2018-09-20_Protokoll.pdf) and was not recorded as a protocol."
    ),
    "pf.unknown_measure": "The file protokolle/{file} names the measure {found}, which does not exist; known: {known}.",
    "pf.no_meeting": (
        "The file protokolle/{file} fits no meeting: {measure} has no meeting on {day} (recorded: {known}). "
        "If it took place, record it with: /schedule {command} {day} – the file is then picked up by the next "
        "scan. Otherwise please rename the file."
    ),
    "pf.unreadable": "The file protokolle/{file} cannot be read ({detail}).",
    "mt.far_past": "Note: {day} is more than {years} years ago – please check the year.",
    "mt.far_future": "Note: {day} is more than {years} years ahead – please check the year.",
    "mt.held_recorded": "Meeting on {measure} on {when} recorded as held (history), approach: {approach}.",
    "mt.held_unchanged": "The meeting on {measure} on {when} is already recorded as held; nothing changed.",
    "mt.held_corrected": "Meeting on {measure} on {when} (held) corrected, approach: {approach}.",
    "mt.held_quiet": "History: nobody was notified, no meeting reminders follow.",
    "mt.held_protocol_hint": "If its protocol went out for signature, record it: /protocol {command} {day} sent DD.MM.YYYY",
    "mt.cancel_nothing": "{measure} has no scheduled meeting that could be cancelled.",
    "mt.cancelled": "Meeting on {measure} on {when} cancelled (approach: {approach}); it stays in the history as cancelled.",
    "mt.cancel_told": "Told: {names}",
    "mt.notice_cancelled": "The meeting on {measure} on {when} is cancelled.",
    "mt.cancel_unscheduled": "{measure} now has no meeting: not yet scheduled (/schedule {command} DD.MM.YYYY).",
    "mt.protocol_sent_future": "{sent} is in the future; please give the day the protocol went out.",
    "mt.protocol_sent_early": "The protocol cannot have gone out on {sent}, before the meeting on {day}.",
    "mt.protocol_sent_corrected": "Sending date of the protocol on {measure} of {day} corrected: {sent} instead of {before}.",
    "mt.protocol_history": (
        "Recorded as history: nobody was notified now. Record signatures returned on paper with "
        "/signed {command} {day} for NAME on DD.MM.YYYY. Reminders of missing signatures go out on {next} at the earliest."
    ),
    "mt.sign_for_admin": "Signatures for others (returned on paper) are recorded by the admins; yours with /{command} Mxx.",
    "mt.sign_for_args": "Please write: /signed M21 for NAME on 24.09.2018 (or /signed M21 20.09.2018 for NAME on 24.09.2018 for that meeting's protocol).",
    "mt.sign_for_ambiguous": "“{found}” fits several persons: {names}. Please give the name more exactly.",
    "mt.sign_for_unknown": "There is no person “{found}” in the catalogue or on the protocols of {measure} (to sign: {names}).",
    "mt.sign_no_protocol_on": "{measure} has no protocol of a meeting on {day}; protocols exist of: {known}.",
    "mt.not_signatory_other": "{name} is not on the list of signatories of the protocol on {measure} of {day} (to sign: {names}).",
    "mt.already_signed_other": "The signature of {name} on the protocol on {measure} of {day} is already recorded (on {signed}).",
    "mt.signed_paper": "Signature of {name} on the protocol on {measure} of {day} recorded: on paper, signed on {signed}, entered by {by}.",
}
