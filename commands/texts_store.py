"""Texts of the store's safety net: rebuilding a lost main file, the outbox, backups, the one running monitor."""

DE = {
    "store.what_missing": "fehlte",
    "store.what_damaged": "war beschädigt ({reason})",
    "store.recovered": (
        "Die Datenbank {path} {what}. Sie wurde aus der Sicherung {backup} vom {taken} wiederhergestellt "
        "({from_backup} Lieferungen) und um {reattached} Lieferungen aus den danach geschriebenen Segmenten ergänzt. "
        "Änderungen an Terminen, Protokollen, Unterschriften und Schritten nach dem {taken} fehlen – bitte prüfen."
    ),
    "store.recovered_no_backup": (
        "Die Datenbank {path} {what}, und es gab keine Sicherung. {reattached} Lieferungen wurden aus ihren "
        "Segmenten wiederhergestellt; Termine, Protokolle, Unterschriften und Schritte fehlen und müssen neu "
        "eingetragen werden."
    ),
    "store.recovered_kept": "Die beschädigte Datei liegt unter {kept}.",
    "store.recovered_skipped": "{n} beschädigte Segmente wurden übergangen und liegen weiter in {folder}: {names}.",
    "store_missing_locked": (
        "Die Datenbank {path} fehlt; der laufende Sozialmonitor (Prozess {pid}) hat sie vollständig im Speicher "
        "und schreibt sie bei der nächsten Änderung neu. Bitte kurz warten oder ihn neu starten: dann wird sie aus "
        "Sicherung und Segmenten wiederhergestellt."
    ),
    "outbox.recovered": (
        "Der Postausgang {path} war beschädigt ({reason}) und liegt jetzt unter {kept}. Er wurde aus der Sicherung "
        "{backup} vom {taken} wiederhergestellt ({items} Nachrichten); was danach hinzukam oder zugestellt wurde, "
        "kann fehlen oder ein zweites Mal ankommen."
    ),
    "outbox.recovered_no_backup": (
        "Der Postausgang {path} war beschädigt ({reason}) und liegt jetzt unter {kept}. Es gab keine Sicherung; "
        "er beginnt leer, noch nicht zugestellte Nachrichten können fehlen."
    ),
    "cli.run_busy": (
        "In diesem Arbeitsbereich läuft bereits ein Sozialmonitor (Prozess {pid}, „sozialmonitor {command}“, seit "
        "{since}); ein zweiter „run“ startet nicht. Bitte den laufenden weiterverwenden oder ihn zuerst beenden "
        "(Strg-C oder SIGTERM an Prozess {pid})."
    ),
    "restore_busy": (
        "Die Datenbank {path} wird gerade von Prozess {pid} („sozialmonitor {command}“) benutzt; zum "
        "Wiederherstellen bitte zuerst den laufenden Sozialmonitor beenden."
    ),
    "restore_none": "In {folder} gibt es keine nutzbare Sicherung; es wurde nichts geändert.",
    "restore_unknown": "Eine Sicherung „{name}“ gibt es in {folder} nicht; „sozialmonitor sicherungen“ zeigt alle.",
    "restore_unusable": (
        "Die Sicherung {name} ist nicht nutzbar (beschädigt, oder ihre Segmente fehlen); „sozialmonitor "
        "sicherungen“ zeigt die nutzbaren."
    ),
    "restore.done": (
        "Sicherung {name} vom {taken} wiederhergestellt: {meetings} Termine, {protocols} Protokolle, "
        "{deliveries} Lieferungen."
    ),
    "restore.previous": "Der Stand davor ist als Sicherung {previous} erhalten.",
    "restore.no_previous": "Es gab keinen Stand davor.",
    "backups.none": "In {folder} gibt es keine Sicherungen.",
    "backups.line": "{name}  {taken}  {meetings} Termine, {protocols} Protokolle, {deliveries} Lieferungen, {values} Werte  {usable}",
    "backups.usable": "nutzbar",
    "backups.unusable.unreadable": "nicht nutzbar: nicht lesbar",
    "backups.unusable.shape": "nicht nutzbar: falscher Aufbau",
    "backups.unusable.schema": "nicht nutzbar: unbekanntes Format",
    "backups.unusable.segment": "nicht nutzbar: Segment {segment} fehlt oder ist beschädigt",
    "backups.unknown_time": "Zeit unbekannt",
}

EN = {
    "store.what_missing": "was missing",
    "store.what_damaged": "was damaged ({reason})",
    "store.recovered": (
        "The database {path} {what}. It was restored from the backup {backup} of {taken} ({from_backup} "
        "deliveries) and completed with {reattached} deliveries from the segments written after it. Changes to "
        "meetings, protocols, signatures and steps after {taken} are missing – please check."
    ),
    "store.recovered_no_backup": (
        "The database {path} {what}, and there was no backup. {reattached} deliveries were restored from their "
        "segments; meetings, protocols, signatures and steps are missing and must be entered again."
    ),
    "store.recovered_kept": "The damaged file is kept at {kept}.",
    "store.recovered_skipped": "{n} damaged segments were skipped and stay in {folder}: {names}.",
    "store_missing_locked": (
        "The database {path} is missing; the running Sozialmonitor (process {pid}) holds all of it in memory and "
        "writes it again with the next change. Please wait a moment or restart it: it is then restored from the "
        "backup and the segments."
    ),
    "outbox.recovered": (
        "The outbox {path} was damaged ({reason}) and is now kept at {kept}. It was restored from the backup "
        "{backup} of {taken} ({items} messages); what was added or delivered after that may be missing or arrive "
        "a second time."
    ),
    "outbox.recovered_no_backup": (
        "The outbox {path} was damaged ({reason}) and is now kept at {kept}. There was no backup; it starts "
        "empty, and messages not yet delivered may be missing."
    ),
    "cli.run_busy": (
        "A Sozialmonitor is already running in this workspace (process {pid}, “sozialmonitor {command}”, since "
        "{since}); a second “run” does not start. Keep using the running one or stop it first (Ctrl-C or SIGTERM "
        "to process {pid})."
    ),
    "restore_busy": (
        "The database {path} is in use by process {pid} (“sozialmonitor {command}”); to restore a backup, stop "
        "the running Sozialmonitor first."
    ),
    "restore_none": "There is no usable backup in {folder}; nothing was changed.",
    "restore_unknown": "There is no backup “{name}” in {folder}; “sozialmonitor sicherungen” lists them all.",
    "restore_unusable": (
        "The backup {name} is not usable (damaged, or its segments are missing); “sozialmonitor sicherungen” "
        "shows the usable ones."
    ),
    "restore.done": (
        "Backup {name} of {taken} restored: {meetings} meetings, {protocols} protocols, {deliveries} deliveries."
    ),
    "restore.previous": "The state before is kept as the backup {previous}.",
    "restore.no_previous": "There was no state before.",
    "backups.none": "There are no backups in {folder}.",
    "backups.line": "{name}  {taken}  {meetings} meetings, {protocols} protocols, {deliveries} deliveries, {values} values  {usable}",
    "backups.usable": "usable",
    "backups.unusable.unreadable": "not usable: unreadable",
    "backups.unusable.shape": "not usable: wrong structure",
    "backups.unusable.schema": "not usable: unknown format",
    "backups.unusable.segment": "not usable: segment {segment} missing or damaged",
    "backups.unknown_time": "time unknown",
}
