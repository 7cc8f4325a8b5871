"""Texts of the core commands, the command line, the settings check and the store."""

DE = {
    # access and dispatch
    "start.known": "Guten Tag, {name}! Ich bin der Sozialmonitor der Fachstelle Sozialplanung. /hilfe zeigt, was ich kann.",
    "start.group": "Guten Tag! Ich bin der Sozialmonitor der Fachstelle Sozialplanung. /hilfe zeigt, was ich kann.",
    "start.unknown": (
        "Guten Tag! Ich bin der Sozialmonitor der Fachstelle Sozialplanung/Sozialberichterstattung. "
        "Sie sind noch nicht freigeschaltet. Bitte nennen Sie der Fachstelle Ihre Telegram-ID {user_id}; "
        "sie trägt Sie dann im Katalog ein."
    ),
    "start.unknown_no_id": "Guten Tag! Sie sind noch nicht freigeschaltet. Bitte wenden Sie sich an die Fachstelle Sozialplanung.",
    "denied.unknown": (
        "Dafür sind Sie nicht freigeschaltet. Bitte nennen Sie der Fachstelle Sozialplanung Ihre Telegram-ID {user_id}."
    ),
    "denied.admin": "Der Befehl /{command} ist der Fachstelle (Admins) vorbehalten.",
    "denied.participant": "Der Befehl /{command} ist für Teilnehmende der Besprechungen; Sie sind im Katalog keiner Maßnahme zugeordnet.",
    "unknown_command": "Den Befehl /{command} kenne ich nicht. /hilfe zeigt alle Befehle.",
    "not_a_command": "Bitte einen Befehl mit / beginnen, zum Beispiel /status M21. /hilfe zeigt alle Befehle.",
    "usage": "So geht es: /{command} {usage}",
    "unknown_measure": "Die Maßnahme „{found}“ gibt es nicht. Bekannt sind: {known}.",
    "missing_measure": "Bitte eine Maßnahme angeben, zum Beispiel /{command} M21.",
    "extra_args": "„{found}“ nimmt /{command} nicht an.",
    "help.unknown": "Den Befehl „{found}“ kenne ich nicht; /hilfe zeigt alle.",
    "internal_error": "Das hat leider nicht geklappt (interner Fehler). Die Fachstelle wurde informiert.",
    # help
    "help.title": "Befehle des Sozialmonitors:",
    "help.admin_mark": " (Fachstelle)",
    "help.measure_ids": "Maßnahmen schreiben Sie als M21, M 21, m21 oder 21.",
    # fields and generic words
    "field.Pflege": "Pflege",
    "field.Wohnen": "Wohnen",
    "field.Soziale Lage": "Soziale Lage",
    "field.Bildung": "Bildung",
    "phase": "Phase {phase}",
    "phase.1": "Phase I (verwaltungsintern)",
    "phase.2": "Phase II (mit externen Stellen)",
    "no_title": "(Titel in der Dokumentation noch nicht genannt)",
    "not_scheduled": "noch nicht terminiert",
    "none": "keine",
    "whole_city": "Gesamtstadt",
    "names_more": "{names} … ({n} insgesamt)",
    "frequency.monatlich": "monatlich",
    "frequency.vierteljährlich": "vierteljährlich",
    "frequency.halbjährlich": "halbjährlich",
    "frequency.jährlich": "jährlich",
    # /status overview
    "status.title": "Stand der 14 Maßnahmen am {day}:",
    "status.legend": "Maßnahme · Phase · Besprechung · Protokoll unterschrieben · Lieferungen überfällig · offene Schritte",
    "status.line_meeting": "Termin {day}",
    "status.line_meeting_both": "Termin {day}, nächster {next}",
    "status.line_meeting_planned": "Termin {day} (geplant)",
    "status.line_protocol": "Protokoll {signed}/{required}",
    "status.line_no_protocol": "kein Protokoll",
    "status.line_overdue": "{n} überfällig",
    "status.line_steps": "{n} Schritte offen",
    "status.line_steps_one": "1 Schritt offen",
    # /status Mxx
    "detail.lead": "Federführung: {offices}",
    "detail.lead_none": "Federführung: noch nicht eingetragen",
    "detail.external": "Externe Stellen: {names}",
    "detail.hint": "Hinweis: {hint}",
    "detail.meetings": "Besprechungen:",
    "detail.meeting": "{day}{time}: {approach}",
    "detail.meeting_none": "Besprechung: noch nicht terminiert",
    "detail.meeting_last": "Zuletzt getagt: {day}",
    "detail.meeting_next": "nächste Besprechung: {day}",
    "detail.meeting_state": "{meeting} ({state})",
    "detail.meeting_held": "stattgefunden",
    "detail.meeting_planned": "geplant",
    "detail.meeting_cancelled": "abgesagt am {day}",
    "detail.meeting_moved": "; verlegt vom {days}",
    "detail.protocol_signed": "Unterschrieben: {names}",
    "detail.signed_chat": "{name} ({day})",
    "detail.signed_paper": "{name} ({day}, auf Papier)",
    "detail.protocol": "Protokoll vom {day}: versandt am {sent}, {signed} von {required} unterschrieben",
    "detail.protocol_missing": "Es fehlt die Unterschrift von: {names}",
    "detail.protocol_complete": "Alle haben unterschrieben.",
    "detail.protocol_none": "Protokoll: noch nicht versandt",
    "detail.indicators": "Indikatoren:",
    "detail.indicators_none": "Indikatoren: noch nicht festgelegt",
    "detail.indicator_value": "{name}: {value} {unit} ({period}{area})",
    "detail.indicator_no_value": "{name}: noch keine Lieferung",
    "detail.more_areas": ", +{n} weitere Gebiete",
    "detail.overdue": "Überfällige Lieferungen:",
    "detail.overdue_item": "{indicator} für {period}, fällig seit {due} ({office})",
    "detail.steps": "Ausstehende Schritte:",
    "detail.step": "{number}. {text}{due}{who}",
    "detail.step_due": " (bis {day})",
    "detail.step_who": " – {who}",
    "detail.steps_none": "Ausstehende Schritte: keine",
    "detail.financing": "Die Umsetzung steht unter dem Vorbehalt der Finanzierbarkeit.",
    # /massnahmen
    "measures.title": "Die 14 Maßnahmen nach Handlungsfeld:",
    # /termine
    "meetings.upcoming": "Anstehende Besprechungen:",
    "meetings.upcoming_none": "Keine Besprechung ist angesetzt.",
    "meetings.unscheduled": "Noch nicht terminiert:",
    "meetings.past": "Zuletzt stattgefunden:",
    # command line
    "cli.workspace_exists": "Im Ordner {path} gibt es schon einen Arbeitsbereich; er bleibt unverändert. Wählen Sie einen anderen Ordner.",
    "cli.workspace_missing": "Im Ordner {path} gibt es keinen Arbeitsbereich. Legen Sie ihn mit „sozialmonitor init {path}“ an oder geben Sie --workspace an.",
    "cli.init_done": "Arbeitsbereich angelegt: {path}",
    "cli.init_demo": "Mit Beispieldaten („Beispiel“) – keine echten Koblenzer Zahlen.",
    "cli.check_ok": "Einstellungen und Katalog sind in Ordnung (Maßnahmen: {measures}, Indikatoren: {indicators}, Personen: {persons}).",
    "cli.problem": "{file}{line}: {message}",
    "cli.catalogue_broken": "Der Katalog {path} enthält Fehler; „sozialmonitor check“ zeigt sie mit Zeilennummer.",
    "cli.bad_datetime": "„{found}“ ist kein gültiger Zeitpunkt. Erwartet wird z. B. 2018-09-19T09:00.",
    "cli.bad_arguments": "Die Angaben passen nicht: {detail}. „{prog} --help“ zeigt, was möglich ist.",
    "cli.console_intro": "Sozialmonitor – Konsolen-Chat (ohne Telegram). Befehle wie /status M21 eingeben; /hilfe zeigt alle; Strg-D beendet.",
    "cli.stopped": "Sozialmonitor beendet.",
    "cli.interrupted": "Abgebrochen.",
    "cli.notices_queued": "Die {n} Nachricht(en) warten im Postausgang; der Sozialmonitor stellt sie auf dem Kanal jeder Person zu, sobald er läuft.",
    "cli.unexpected": "Unerwarteter Fehler ({what}); nichts wurde halb gespeichert. Die Einzelheiten stehen in {log} – bitte an die Betreuung des Sozialmonitors weitergeben.",
    # settings and catalogue problems
    "file_missing": "Die Datei {path} fehlt.",
    "file_unreadable": "Die Datei {path} lässt sich nicht lesen ({detail}).",
    "toml_syntax": (
        "Kein gültiges TOML in „{source}“ ({detail}). Erwartet wird eine Zeile schluessel = wert – Texte in "
        "Anführungszeichen, z. B. language = \"de\", Zahlen ohne, z. B. max_rows = 200000 – oder eine "
        "Abschnittszeile wie [watcher]."
    ),
    "set_unknown": (
        "Die Einstellung „{key}“ (Wert {found}) gibt es nicht; erlaubt sind hier: {expected}. "
        "Bitte die Schreibweise prüfen oder die Zeile löschen."
    ),
    "set_unknown_section": "Den Abschnitt [{key}] gibt es nicht; erlaubt sind: {expected}. Bitte die Schreibweise prüfen.",
    "set_not_section": (
        "„{key}“ ist ein Abschnitt: erwartet wird eine Zeile [{key}] mit den Einstellungen darunter, nicht der Wert {found}."
    ),
    "set_secret": (
        "„{key}“ gehört nicht in die Datei; bitte die Zeile löschen und das Geheimnis als Umgebungsvariable {env} setzen."
    ),
    "set_type_bool": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird true oder false (ohne Anführungszeichen), z. B. {example}.",
    "set_type_int": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine ganze Zahl ohne Anführungszeichen, z. B. {example}.",
    "set_type_number": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine Zahl ohne Anführungszeichen, z. B. {example}.",
    "set_type_text": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird ein Text in Anführungszeichen, z. B. {example}.",
    "set_type_int_list": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine Liste ganzer Zahlen, z. B. {example}.",
    "set_type_text_list": (
        "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine Liste von Texten in Anführungszeichen, "
        "z. B. [\"!abcdef:stadt.koblenz.de\"]."
    ),
    "set_choice": "Die Einstellung „{key}“ hat den Wert {found}; erlaubt ist: {expected}.",
    "set_positive": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine Zahl größer als 0, z. B. {example}.",
    "set_not_negative": "Die Einstellung „{key}“ enthält den Wert {found}; erwartet wird eine Zahl ab 0, z. B. {example}.",
    "set_range": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine ganze Zahl von {min} bis {max}, z. B. {example}.",
    "set_empty": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird ein nicht leerer Text, z. B. {example}.",
    "set_timezone": "Die Einstellung „{key}“ hat den Wert {found}, keine bekannte Zeitzone; erwartet wird ein Name wie \"Europe/Berlin\".",
    "set_hours": (
        "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird ein Zeitfenster \"HH:MM-HH:MM\" mit dem Beginn "
        "vor dem Ende, z. B. {example}."
    ),
    "set_url": "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine Adresse der Form {expected} (oder \"\" für keine).",
    "set_address": (
        "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine E-Mail-Adresse, z. B. "
        "\"Sozialmonitor <sozialmonitor@stadt.koblenz.de>\"."
    ),
    "set_matrix_user": (
        "Die Einstellung „{key}“ hat den Wert {found}; erwartet wird eine Matrix-Kennung @name:server, z. B. "
        "\"@sozialmonitor:stadt.koblenz.de\"."
    ),
    "set_matrix_room": (
        "Die Einstellung „{key}“ enthält {found}; erwartet wird eine Raum-ID !kennung:server, z. B. "
        "\"!abcdef:stadt.koblenz.de\"."
    ),
    "set_webhook_url": (
        "Für mode = \"webhook\" erwartet die Einstellung „{key}“ eine öffentliche Adresse https://…, gefunden {found}; "
        "ohne sie bitte mode = \"polling\" eintragen."
    ),
    "cat_not_list": "„{kind}“ muss als [[{kind}]]-Liste eingetragen sein.",
    "cat_missing": "Einem Eintrag [[{kind}]] fehlt „{key}“.",
    "cat_duplicate": "{kind} „{id}“ ist doppelt eingetragen.",
    "cat_bad_measure_id": "„{found}“ ist keine Maßnahmen-Nummer (erwartet z. B. M21).",
    "cat_bad_field": "Maßnahme {id}: Feld „{found}“ ist unbekannt; erlaubt: {expected}.",
    "cat_bad_phase": "Maßnahme {id}: phase muss 1 oder 2 sein, nicht {found}.",
    "cat_unknown_office": "{id}: das Amt „{office}“ steht nicht unter [[amt]].",
    "cat_unknown_measure": "{id}: die Maßnahme „{found}“ gibt es nicht.",
    "cat_bad_frequency": "Indikator {id}: Turnus „{found}“ ist unbekannt; erlaubt: {expected}.",
    "cat_bad_due": "Indikator {id}: frist_tage muss eine ganze Zahl ab 0 sein, nicht {found}.",
    "cat_bad_telegram_id": "Person {name}: telegram_id muss eine Zahl sein, nicht „{found}“.",
    "cat_bad_role": "Person {name}: Rolle „{found}“ ist unbekannt; erlaubt: admin, mitglied.",
    # store
    "store_unreadable": (
        "Die Datenbank {path} ist beschädigt oder unvollständig ({reason}); der Sozialmonitor startet nicht, "
        "damit nichts verloren geht. Neueste gute Sicherung: {backup}. Zum Wiederherstellen den Sozialmonitor "
        "beenden und „sozialmonitor wiederherstellen {name}“ aufrufen; der jetzige Stand bleibt als Sicherung erhalten."
    ),
    "store_unreadable_no_backup": (
        "Die Datenbank {path} ist beschädigt oder unvollständig ({reason}); der Sozialmonitor startet nicht, "
        "damit nichts verloren geht. Es gibt keine Sicherung in {folder}; bitte die Datei aus der Datensicherung "
        "des Servers zurückholen."
    ),
    "store_schema": "Die Datenbank {path} hat das Format {found}, dieses Programm kennt Format {expected}. Bitte die passende Version des Sozialmonitors verwenden.",
    "store_no_schema": "Die Datei {path} ist keine Sozialmonitor-Datenbank (Formatangabe fehlt).",
    "store_locked": "Die Datenbank {path} wird gerade vom laufenden Sozialmonitor (Prozess {pid}) benutzt; Änderungen gehen nur über ihn – im Chat oder über die Ablage. Lesen ist weiterhin möglich.",
    "store_write_failed": "Die Datenbank {path} konnte nicht geschrieben werden ({detail}); die Änderung ist nicht gespeichert.",
    # catalogue: list fields, further channels, and what a catalogue must keep
    "cat_bad_list": "{id}: „{key}“ muss eine Liste sein, z. B. {key} = [\"M21\", \"M24\"], nicht {found}.",
    "cat_bad_email": "Person {name}: email „{found}“ ist keine E-Mail-Adresse; erwartet z. B. \"erika.muster@stadt.koblenz.de\".",
    "cat_bad_matrix_id": "Person {name}: matrix_id „{found}“ ist keine Matrix-Kennung; erwartet @name:server, z. B. \"@erika.muster:koblenz.de\".",
    "cat_bad_channel": "Person {name}: kanal „{found}“ ist unbekannt; erlaubt: {expected}.",
    "cat_channel_address": "Person {name}: kanal = \"{channel}\" braucht auch {key}; bitte eintragen oder den kanal ändern.",
    "cat_drops_measure": (
        "Maßnahme {id} fehlt, zu ihr sind aber Daten gespeichert (Besprechungen: {meetings}, Protokolle: {protocols}, "
        "Schritte: {steps}, Lieferungen: {deliveries}). Bitte wieder einen Eintrag [[massnahme]] mit id = \"{id}\" aufnehmen."
    ),
    "cat_drops_indicator": (
        "Indikator „{id}“ fehlt, zu ihm sind aber Werte für {periods} Zeitraum/Zeiträume gespeichert. Bitte wieder einen "
        "Eintrag [[indikator]] mit id = \"{id}\" aufnehmen (Name und andere Angaben dürfen sich ändern)."
    ),
    "cat_drops_admins": (
        "Keine Person hat mehr rolle = \"admin\" (bisher: {names}); dann erreichen Betriebsmeldungen niemanden. "
        "Bitte mindestens eine Person mit rolle = \"admin\" eintragen."
    ),
    "cat.refused_reload": (
        "Der geänderte Katalog {path} wird nicht übernommen: er würde Einträge entfernen, zu denen Daten gespeichert "
        "sind. Es gilt weiter der zuletzt gültige Katalog; sobald die Datei korrigiert ist, wird sie übernommen."
    ),
    "cli.catalogue_refused": (
        "Der Sozialmonitor arbeitet nicht mit diesem Katalog: {path} würde Einträge entfernen, zu denen Daten "
        "gespeichert sind. Bitte die Datei korrigieren, wie unten beschrieben; „sozialmonitor check“ prüft sie erneut."
    ),
    "cli.settings_refused": (
        "Der Sozialmonitor arbeitet nicht mit diesen Einstellungen: {path} enthält Fehler. Bitte die Datei "
        "korrigieren, wie unten beschrieben; „sozialmonitor check“ prüft sie erneut."
    ),
    # argparse's own messages (its msgids in English; the %-placeholders are filled by argparse)
    "argparse.usage": "Aufruf: ",
    "argparse.required": "es fehlt die Angabe %s",
    "argparse.unrecognized": "unbekannte Angaben: %s",
    "argparse.invalid_choice": "%(value)r ist nicht möglich; möglich sind %(choices)s",
    "argparse.argument": "%(argument_name)s: %(message)s",
    "argparse.invalid_value": "%(value)r ist kein gültiger Wert (%(type)s)",
    "argparse.one": "hier fehlt der Wert",
    "argparse.at_least_one": "hier fehlt mindestens ein Wert",
    "argparse.at_most_one": "hier ist höchstens ein Wert möglich",
    "argparse.ambiguous": "%(option)s ist nicht eindeutig (passt zu %(matches)s)",
    "argparse.not_allowed": "nicht zusammen mit %s möglich",
    "argparse.ignored": "%r wird hier nicht erwartet",
    "argparse.one_of": "eine der Angaben %s ist nötig",
    "argparse.unknown_parser": "%(parser_name)r gibt es nicht; möglich sind %(choices)s",
    "argparse.open_file": "'%(filename)s' lässt sich nicht öffnen: %(error)s",
    "argparse.help": "diese Hilfe zeigen und beenden",
    "argparse.positionals": "Angaben",
    "argparse.options": "Optionen",
    "cli.reminders_future_send": (
        "--send mit einem Zeitpunkt in der Zukunft ({at}) ist nicht möglich: ein Was-wäre-wenn verbraucht nie echte "
        "Erinnerungen. Ohne --send zeigt der Befehl, was dann fällig wäre; senden Sie ohne --at oder mit einem "
        "vergangenen Zeitpunkt."
    ),
    "ingest.cli.folder": "{file}: das ist ein Ordner, keine Datei; bitte die Dateien darin angeben, z. B. {file}/*.csv",
    "file_encoding": (
        "Die Datei ist nicht als UTF-8 gespeichert (das Byte {found} ist kein UTF-8-Zeichen, etwa ein Umlaut aus "
        "Windows-1252); bitte im Editor mit der Kodierung UTF-8 speichern."
    ),
}

EN = {
    "start.known": "Hello, {name}! I am the Sozialmonitor of the social planning unit. /help shows what I can do.",
    "start.group": "Hello! I am the Sozialmonitor of the social planning unit. /help shows what I can do.",
    "start.unknown": (
        "Hello! I am the Sozialmonitor of the social planning unit. You do not have access yet. "
        "Please give the unit your Telegram id {user_id}; they will add you to the catalogue."
    ),
    "start.unknown_no_id": "Hello! You do not have access yet. Please contact the social planning unit.",
    "denied.unknown": "You do not have access to this. Please give the social planning unit your Telegram id {user_id}.",
    "denied.admin": "The command /{command} is reserved for the social planning unit (admins).",
    "denied.participant": "The command /{command} is for meeting participants; the catalogue assigns you to no measure.",
    "unknown_command": "I do not know the command /{command}. /help lists all commands.",
    "not_a_command": "Please start with a command, for example /status M21. /help lists all commands.",
    "usage": "Usage: /{command} {usage}",
    "unknown_measure": "There is no measure “{found}”. Known measures: {known}.",
    "missing_measure": "Please name a measure, for example /{command} M21.",
    "extra_args": "/{command} does not take “{found}”.",
    "help.unknown": "I do not know the command “{found}”; /help lists them all.",
    "internal_error": "Sorry, that did not work (internal error). The social planning unit has been told.",
    "help.title": "Sozialmonitor commands:",
    "help.start": "Greeting; for people without access yet: how to get it.",
    "help.hilfe": "All commands, one line each (/help schedule: one command with its arguments).",
    "help.status": "All measures in one line each, or one measure in full (/status M21).",
    "help.massnahmen": "The 14 measures by field (care, housing, social situation, education).",
    "help.termine": "Upcoming meetings, and measures whose meeting is not yet scheduled.",
    "help.verlauf": "Where a value came from: each period's value with source file, office and day received, and what it replaced.",
    "help.vorlage": "An office's fill-in template (XLSX): its indicators with the open periods, to fill in and drop.",
    "help.admin_mark": " (admins)",
    "help.measure_ids": "Write measures as M21, M 21, m21 or 21.",
    "field.Pflege": "Care",
    "field.Wohnen": "Housing",
    "field.Soziale Lage": "Social situation",
    "field.Bildung": "Education",
    "phase": "phase {phase}",
    "phase.1": "phase I (within the administration)",
    "phase.2": "phase II (with external bodies)",
    "no_title": "(title not yet given in the documentation)",
    "not_scheduled": "not yet scheduled",
    "none": "none",
    "whole_city": "whole city",
    "names_more": "{names} … ({n} in all)",
    "frequency.monatlich": "monthly",
    "frequency.vierteljährlich": "quarterly",
    "frequency.halbjährlich": "half-yearly",
    "frequency.jährlich": "yearly",
    "status.title": "State of the 14 measures on {day}:",
    "status.legend": "measure · phase · meeting · protocol signed · deliveries overdue · open steps",
    "status.line_meeting": "meeting {day}",
    "status.line_meeting_both": "meeting {day}, next {next}",
    "status.line_meeting_planned": "meeting {day} (planned)",
    "status.line_protocol": "protocol {signed}/{required}",
    "status.line_no_protocol": "no protocol",
    "status.line_overdue": "{n} overdue",
    "status.line_steps": "{n} steps open",
    "status.line_steps_one": "1 step open",
    "detail.lead": "Lead: {offices}",
    "detail.lead_none": "Lead: not yet entered",
    "detail.external": "External bodies: {names}",
    "detail.hint": "Note: {hint}",
    "detail.meetings": "Meetings:",
    "detail.meeting": "{day}{time}: {approach}",
    "detail.meeting_none": "Meeting: not yet scheduled",
    "detail.meeting_last": "Last met: {day}",
    "detail.meeting_next": "next meeting: {day}",
    "detail.meeting_state": "{meeting} ({state})",
    "detail.meeting_held": "held",
    "detail.meeting_planned": "planned",
    "detail.meeting_cancelled": "cancelled on {day}",
    "detail.meeting_moved": "; moved from {days}",
    "detail.protocol_signed": "Signed: {names}",
    "detail.signed_chat": "{name} ({day})",
    "detail.signed_paper": "{name} ({day}, on paper)",
    "detail.protocol": "Protocol of {day}: sent on {sent}, {signed} of {required} signed",
    "detail.protocol_missing": "Signature missing from: {names}",
    "detail.protocol_complete": "Everyone has signed.",
    "detail.protocol_none": "Protocol: not yet sent",
    "detail.indicators": "Indicators:",
    "detail.indicators_none": "Indicators: not yet specified",
    "detail.indicator_value": "{name}: {value} {unit} ({period}{area})",
    "detail.indicator_no_value": "{name}: nothing delivered yet",
    "detail.more_areas": ", +{n} more areas",
    "detail.overdue": "Overdue deliveries:",
    "detail.overdue_item": "{indicator} for {period}, due since {due} ({office})",
    "detail.steps": "Outstanding steps:",
    "detail.step": "{number}. {text}{due}{who}",
    "detail.step_due": " (by {day})",
    "detail.step_who": " – {who}",
    "detail.steps_none": "Outstanding steps: none",
    "detail.financing": "Implementation is subject to financing.",
    "measures.title": "The 14 measures by field:",
    "meetings.upcoming": "Upcoming meetings:",
    "meetings.upcoming_none": "No meeting is scheduled.",
    "meetings.unscheduled": "Not yet scheduled:",
    "meetings.past": "Most recent meetings:",
    "cli.workspace_exists": "The folder {path} already holds a workspace; it is left unchanged. Choose another folder.",
    "cli.workspace_missing": "There is no workspace in {path}. Create one with “sozialmonitor init {path}” or pass --workspace.",
    "cli.init_done": "Workspace created: {path}",
    "cli.init_demo": "With example data (“Beispiel”) – not real Koblenz figures.",
    "cli.check_ok": "Settings and catalogue are fine (measures: {measures}, indicators: {indicators}, persons: {persons}).",
    "cli.problem": "{file}{line}: {message}",
    "cli.catalogue_broken": "The catalogue {path} has errors; “sozialmonitor check” lists them with line numbers.",
    "cli.bad_datetime": "“{found}” is not a valid moment. Expected e.g. 2018-09-19T09:00.",
    "cli.bad_arguments": "The arguments do not fit: {detail}. “{prog} --help” shows what is possible.",
    "cli.console_intro": "Sozialmonitor – console chat (no Telegram). Type commands such as /status M21; /help lists them; Ctrl-D ends.",
    "cli.stopped": "Sozialmonitor stopped.",
    "cli.interrupted": "Interrupted.",
    "cli.notices_queued": "The {n} message(s) wait in the outbox; Sozialmonitor delivers them on each person's channel as soon as it runs.",
    "cli.unexpected": "Unexpected error ({what}); nothing was half saved. The details are in {log} – please pass them on to whoever looks after Sozialmonitor.",
    "file_missing": "The file {path} is missing.",
    "file_unreadable": "The file {path} cannot be read ({detail}).",
    "toml_syntax": (
        "Not valid TOML in “{source}” ({detail}). Expected a line key = value – text in quotes, e.g. "
        "language = \"en\", numbers without, e.g. max_rows = 200000 – or a section line such as [watcher]."
    ),
    "set_unknown": "There is no setting “{key}” (value {found}); allowed here: {expected}. Check the spelling or delete the line.",
    "set_unknown_section": "There is no section [{key}]; allowed: {expected}. Check the spelling.",
    "set_not_section": "“{key}” is a section: expected a line [{key}] with its settings below, not the value {found}.",
    "set_secret": "“{key}” does not belong in the file; delete the line and set the secret as environment variable {env}.",
    "set_type_bool": "The setting “{key}” is {found}; expected true or false (without quotes), e.g. {example}.",
    "set_type_int": "The setting “{key}” is {found}; expected a whole number without quotes, e.g. {example}.",
    "set_type_number": "The setting “{key}” is {found}; expected a number without quotes, e.g. {example}.",
    "set_type_text": "The setting “{key}” is {found}; expected a text in quotes, e.g. {example}.",
    "set_type_int_list": "The setting “{key}” is {found}; expected a list of whole numbers, e.g. {example}.",
    "set_type_text_list": "The setting “{key}” is {found}; expected a list of texts in quotes, e.g. [\"!abcdef:stadt.koblenz.de\"].",
    "set_choice": "The setting “{key}” is {found}; allowed: {expected}.",
    "set_positive": "The setting “{key}” is {found}; expected a number greater than 0, e.g. {example}.",
    "set_not_negative": "The setting “{key}” contains {found}; expected a number from 0, e.g. {example}.",
    "set_range": "The setting “{key}” is {found}; expected a whole number from {min} to {max}, e.g. {example}.",
    "set_empty": "The setting “{key}” is {found}; expected a text that is not empty, e.g. {example}.",
    "set_timezone": "The setting “{key}” is {found}, no known time zone; expected a name such as \"Europe/Berlin\".",
    "set_hours": "The setting “{key}” is {found}; expected a time window \"HH:MM-HH:MM\" starting before it ends, e.g. {example}.",
    "set_url": "The setting “{key}” is {found}; expected an address of the form {expected} (or \"\" for none).",
    "set_address": "The setting “{key}” is {found}; expected an e-mail address, e.g. \"Sozialmonitor <sozialmonitor@stadt.koblenz.de>\".",
    "set_matrix_user": "The setting “{key}” is {found}; expected a Matrix id @name:server, e.g. \"@sozialmonitor:stadt.koblenz.de\".",
    "set_matrix_room": "The setting “{key}” contains {found}; expected a room id !id:server, e.g. \"!abcdef:stadt.koblenz.de\".",
    "set_webhook_url": (
        "mode = \"webhook\" expects the setting “{key}” to be a public address https://…, found {found}; "
        "without one, set mode = \"polling\"."
    ),
    "cat_not_list": "“{kind}” must be a [[{kind}]] list.",
    "cat_missing": "An entry [[{kind}]] lacks “{key}”.",
    "cat_duplicate": "{kind} “{id}” is listed twice.",
    "cat_bad_measure_id": "“{found}” is not a measure id (expected e.g. M21).",
    "cat_bad_field": "Measure {id}: field “{found}” is unknown; allowed: {expected}.",
    "cat_bad_phase": "Measure {id}: phase must be 1 or 2, not {found}.",
    "cat_unknown_office": "{id}: the office “{office}” is not listed under [[amt]].",
    "cat_unknown_measure": "{id}: there is no measure “{found}”.",
    "cat_bad_frequency": "Indicator {id}: frequency “{found}” is unknown; allowed: {expected}.",
    "cat_bad_due": "Indicator {id}: frist_tage must be a whole number from 0, not {found}.",
    "cat_bad_telegram_id": "Person {name}: telegram_id must be a number, not “{found}”.",
    "cat_bad_role": "Person {name}: role “{found}” is unknown; allowed: admin, mitglied.",
    "store_unreadable": (
        "The database {path} is damaged or incomplete ({reason}); Sozialmonitor does not start so that nothing is "
        "lost. Newest good backup: {backup}. To restore it, stop Sozialmonitor and run “sozialmonitor "
        "wiederherstellen {name}”; the current state is kept as a backup."
    ),
    "store_unreadable_no_backup": (
        "The database {path} is damaged or incomplete ({reason}); Sozialmonitor does not start so that nothing is "
        "lost. There is no backup in {folder}; restore the file from the server's backup."
    ),
    "store_schema": "The database {path} has format {found}; this program knows format {expected}. Use the matching Sozialmonitor version.",
    "store_no_schema": "The file {path} is not a Sozialmonitor database (no format marker).",
    "store_locked": "The database {path} is in use by the running Sozialmonitor (process {pid}); changes go through it only – in the chat or through the shared folder. Reading still works.",
    "store_write_failed": "The database {path} could not be written ({detail}); the change is not saved.",
    "cat_bad_list": "{id}: “{key}” must be a list, e.g. {key} = [\"M21\", \"M24\"], not {found}.",
    "cat_bad_email": "Person {name}: email “{found}” is not an e-mail address; expected e.g. \"erika.muster@stadt.koblenz.de\".",
    "cat_bad_matrix_id": "Person {name}: matrix_id “{found}” is not a Matrix id; expected @name:server, e.g. \"@erika.muster:koblenz.de\".",
    "cat_bad_channel": "Person {name}: kanal “{found}” is unknown; allowed: {expected}.",
    "cat_channel_address": "Person {name}: kanal = \"{channel}\" also needs {key}; add it or change the kanal.",
    "cat_drops_measure": (
        "Measure {id} is missing, but data is stored for it (meetings: {meetings}, protocols: {protocols}, "
        "steps: {steps}, deliveries: {deliveries}). Add an entry [[massnahme]] with id = \"{id}\" again."
    ),
    "cat_drops_indicator": (
        "Indicator “{id}” is missing, but values for {periods} period(s) are stored for it. Add an entry "
        "[[indikator]] with id = \"{id}\" again (its name and other details may change)."
    ),
    "cat_drops_admins": (
        "No person has rolle = \"admin\" any more (so far: {names}); operational notices would reach nobody. "
        "Give at least one person rolle = \"admin\"."
    ),
    "cat.refused_reload": (
        "The changed catalogue {path} is not taken over: it would remove entries that have stored data. The last "
        "valid catalogue stays in force; once the file is corrected it is taken over."
    ),
    "cli.catalogue_refused": (
        "Sozialmonitor does not work with this catalogue: {path} would remove entries that have stored data. "
        "Correct the file as described below; “sozialmonitor check” checks it again."
    ),
    "cli.settings_refused": (
        "Sozialmonitor does not work with these settings: {path} has errors. Correct the file as described below; "
        "“sozialmonitor check” checks it again."
    ),
    "argparse.usage": "usage: ",
    "argparse.required": "the following arguments are required: %s",
    "argparse.unrecognized": "unrecognized arguments: %s",
    "argparse.invalid_choice": "invalid choice: %(value)r (choose from %(choices)s)",
    "argparse.argument": "argument %(argument_name)s: %(message)s",
    "argparse.invalid_value": "invalid %(type)s value: %(value)r",
    "argparse.one": "expected one argument",
    "argparse.at_least_one": "expected at least one argument",
    "argparse.at_most_one": "expected at most one argument",
    "argparse.ambiguous": "ambiguous option: %(option)s could match %(matches)s",
    "argparse.not_allowed": "not allowed with argument %s",
    "argparse.ignored": "ignored explicit argument %r",
    "argparse.one_of": "one of the arguments %s is required",
    "argparse.unknown_parser": "unknown parser %(parser_name)r (choices: %(choices)s)",
    "argparse.open_file": "can't open '%(filename)s': %(error)s",
    "argparse.help": "show this help message and exit",
    "argparse.positionals": "positional arguments",
    "argparse.options": "options",
    "cli.reminders_future_send": (
        "--send with a moment in the future ({at}) is not possible: a what-if never consumes real reminders. "
        "Without --send the command shows what would be due then; send without --at or with a past moment."
    ),
    "ingest.cli.folder": "{file}: that is a folder, not a file; name the files in it, e.g. {file}/*.csv",
    "file_encoding": (
        "The file is not saved as UTF-8 (the byte {found} is no UTF-8 character, e.g. an umlaut from Windows-1252); "
        "save it with the encoding UTF-8 in the editor."
    ),
}
