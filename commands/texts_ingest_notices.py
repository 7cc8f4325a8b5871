"""Texts of the ingest pipeline's notices, error reports, the watcher and the /indikatoren and /lieferungen commands."""

__all__ = ["DE", "EN"]

DE = {
    # validation problems the pipeline adds on top of the parser's own
    "ingest.problem.unknown_measure": "Die Maßnahme „{found}“ gibt es nicht.",
    "ingest.problem.unknown_indicator": "Den Indikator „{found}“ gibt es bei Maßnahme {measure} nicht.",
    "ingest.problem.indicator_other_measure": "Der Indikator „{found}“ gehört zu Maßnahme {other}, nicht zu {measure}.",
    "ingest.problem.period_frequency": "Der Zeitraum „{found}“ passt nicht zum Turnus „{frequency}“ des Indikators.",
    "ingest.problem.no_period": "Der Zeitraum fehlt oder ist nicht lesbar.",
    "ingest.problem.office_not_allowed": "{office} liefert diesen Indikator nicht; zuständig ist {expected_office}.",
    "ingest.problem.conflicting_values": "Für diesen Indikator, dieses Gebiet und diesen Zeitraum stehen zwei verschiedene Werte in der Datei (auch in Zeile {other_row}).",
    "ingest.problem.too_big": "Die Datei ist {size} MB groß; erlaubt sind höchstens {limit} MB.",
    "ingest.problem.too_many_rows": "Die Datei hat {rows} Zeilen; erlaubt sind höchstens {limit}.",
    "ingest.problem.zip_bomb": "Die Datei würde entpackt {size} MB groß; erlaubt sind höchstens {limit} MB (Schutz vor Zip-Bomben).",
    "ingest.problem.not_a_table": "Die Datei ist keine lesbare Tabelle ({detail}).",
    "ingest.problem.empty": "Die Datei enthält keine Werte.",
    "ingest.problem.unreadable": "Die Datei ließ sich nicht lesen ({detail}).",
    "ingest.expected.measure": "eine Maßnahme aus dem Katalog, z. B. M21",
    "ingest.expected.indicator": "ein Indikator der Maßnahme (Kennung oder Name)",
    "ingest.expected.period": "ein Zeitraum im Turnus „{frequency}“, z. B. {example}",
    "ingest.expected.office": "{office}",
    "ingest.suggest.closest": "meinten Sie „{name}“?",
    # the error report beside a rejected file
    "ingest.report.title": "Die Datei „{file}“ wurde nicht importiert (abgelehnt am {when}).",
    "ingest.report.office": "Lieferndes Amt: {office}",
    "ingest.report.whole": (
        "Es wurde nichts übernommen: eine Datei wird ganz oder gar nicht importiert. Bitte korrigieren Sie die "
        "Datei und legen Sie sie erneut in den Ordner eingang/."
    ),
    "ingest.report.count": "{n} Problem(e):",
    "ingest.report.more": "… und {n} weitere Probleme derselben Art.",
    "ingest.where.row": "Zeile {row}",
    "ingest.where.sheet": "Blatt „{sheet}“",
    "ingest.where.column": "Spalte „{column}“",
    "ingest.where.file": "Datei",
    "ingest.found": "gefunden: „{found}“",
    "ingest.expected": "erwartet: {expected}",
    "ingest.suggestion": "Vorschlag: {suggestion}",
    # notices for the chat
    "ingest.notice.imported": "Importiert: {file} ({office}) – {rows} Werte, Maßnahmen {measures}.",
    "ingest.notice.counts": "{new} neu, {replaced} ersetzt, {unchanged} unverändert.",
    "ingest.notice.percent_hint": "Bitte prüfen: alle Werte für „{indicator}“ (Einheit %) liegen zwischen 0 und 1 – waren die Zellen als Prozent formatiert (12,5 % steht dann als 0,125 in der Datei)? Dann bitte als Zahl eintragen (12,5) und erneut liefern.",
    "ingest.notice.duplicate": "Schon vorhanden: {file} ({office}) hat denselben Inhalt wie „{earlier}“ vom {day}; archiviert, nicht doppelt gezählt.",
    "ingest.notice.rejected": "Abgelehnt: {file} ({office}) – {n} Problem(e), nichts übernommen.",
    "ingest.notice.report": "Alle Probleme: abgelehnt/{report}",
    "ingest.notice.no_office": "Amt nicht angegeben",
    "ingest.notice.move_failed": "Die Datei {file} ist verarbeitet, konnte aber nicht verschoben werden ({detail}); sie bleibt im Eingang.",
    "ingest.notice.internal": "Die Datei {file} konnte wegen eines internen Fehlers nicht verarbeitet werden ({detail}); sie bleibt im Eingang und wird später erneut versucht.",
    # command line
    "ingest.cli.imported": "{file}: importiert ({rows} Werte; {new} neu, {replaced} ersetzt, {unchanged} unverändert)",
    "ingest.cli.duplicate": "{file}: schon vorhanden (gleicher Inhalt wie Lieferung {delivery}), nicht doppelt gezählt",
    "ingest.cli.rejected": "{file}: abgelehnt, {n} Problem(e), siehe {report}",
    "ingest.cli.first": "  {problem}",
    "ingest.cli.missing": "{file}: die Datei gibt es nicht",
    "ingest.cli.retry": "{file}: die Datei ändert sich noch; bitte später erneut importieren",
    # watcher
    "watch.limit": (
        "Die Ablage {path} kann nicht über Dateiereignisse beobachtet werden ({detail}: das Limit des Systems für "
        "beobachtete Ordner ist erreicht). Der Sozialmonitor schaut stattdessen alle {interval} Sekunden nach. "
        "Dauerhaft beheben: fs.inotify.max_user_watches bzw. max_user_instances erhöhen."
    ),
    "watch.unavailable": "Die Ablage {path} ist nicht erreichbar ({detail}); der Sozialmonitor versucht es alle {minutes} Minuten erneut.",
    "watch.failed": (
        "Die Ablage {path} kann nicht beobachtet werden ({detail}). Der Sozialmonitor schaut stattdessen alle "
        "{interval} Sekunden nach."
    ),
    "watch.catalogue_broken": "Der geänderte Katalog {path} enthält Fehler; es gilt weiter der zuletzt gültige Katalog.",
    "watch.catalogue_problems": "Der geänderte Katalog {path} wurde übernommen, enthält aber Hinweise:",
    "watch.catalogue_ok": "Der geänderte Katalog wurde übernommen ({measures} Maßnahmen, {indicators} Indikatoren, {persons} Personen).",
    # /indikatoren
    "help.indikatoren": "Indikatoren einer Maßnahme: Einheit, Turnus, lieferndes Amt, letzter Wert, nächste Fälligkeit.",
    "ingest.indicators.title": "Indikatoren von {measure}:",
    "ingest.indicators.none": "Für {measure} sind noch keine Indikatoren im Katalog eingetragen.",
    "ingest.indicators.meta": "{unit} · {frequency} · liefert: {office}",
    "ingest.indicators.latest": "letzter Wert: {value} ({period}{area})",
    "ingest.indicators.no_value": "noch kein Wert geliefert",
    "ingest.indicators.next_due": "nächste Lieferung: {period}, fällig am {due}",
    "ingest.indicators.overdue": "überfällig: {period}, fällig seit {due}",
    "ingest.indicators.areas": ", {n} Gebiete",
    # /lieferungen
    "help.lieferungen": "Vollständigkeit der Lieferungen je Amt und Zeitraum; überfällige zuerst.",
    "ingest.deliveries.title": "Lieferungen am {day}:",
    "ingest.deliveries.overdue": "Überfällig:",
    "ingest.deliveries.complete": "Vollständig geliefert:",
    "ingest.deliveries.none_expected": "Es ist noch keine Lieferung fällig (keine Indikatoren mit Turnus im Katalog).",
    "ingest.deliveries.none_overdue": "Keine Lieferung ist überfällig.",
    "ingest.deliveries.group": "{office} · {period}: {delivered} von {expected} geliefert",
    "ingest.deliveries.missing": "fehlt: {indicator} ({measure}), fällig seit {due}",
    "ingest.deliveries.more": "… und {n} ältere vollständige Zeiträume",
    "ingest.deliveries.no_office": "ohne Amt",
}

EN = {
    "ingest.problem.unknown_measure": "There is no measure “{found}”.",
    "ingest.problem.unknown_indicator": "Measure {measure} has no indicator “{found}”.",
    "ingest.problem.indicator_other_measure": "The indicator “{found}” belongs to measure {other}, not {measure}.",
    "ingest.problem.period_frequency": "The period “{found}” does not fit the indicator's frequency “{frequency}”.",
    "ingest.problem.no_period": "The period is missing or unreadable.",
    "ingest.problem.office_not_allowed": "{office} does not deliver this indicator; {expected_office} does.",
    "ingest.problem.conflicting_values": "The file holds two different values for this indicator, area and period (also row {other_row}).",
    "ingest.problem.too_big": "The file is {size} MB; at most {limit} MB are allowed.",
    "ingest.problem.too_many_rows": "The file has {rows} rows; at most {limit} are allowed.",
    "ingest.problem.zip_bomb": "Unpacked, the file would be {size} MB; at most {limit} MB are allowed (zip bomb protection).",
    "ingest.problem.not_a_table": "The file is not a readable table ({detail}).",
    "ingest.problem.empty": "The file holds no values.",
    "ingest.problem.unreadable": "The file could not be read ({detail}).",
    "ingest.expected.measure": "a measure of the catalogue, e.g. M21",
    "ingest.expected.indicator": "an indicator of the measure (id or name)",
    "ingest.expected.period": "a period of frequency “{frequency}”, e.g. {example}",
    "ingest.expected.office": "{office}",
    "ingest.suggest.closest": "did you mean “{name}”?",
    "ingest.report.title": "The file “{file}” was not imported (rejected on {when}).",
    "ingest.report.office": "Delivering office: {office}",
    "ingest.report.whole": (
        "Nothing was taken over: a file is imported whole or not at all. Please correct the file and drop it "
        "into the eingang/ folder again."
    ),
    "ingest.report.count": "{n} problem(s):",
    "ingest.report.more": "… and {n} more problems of the same kind.",
    "ingest.where.row": "row {row}",
    "ingest.where.sheet": "sheet “{sheet}”",
    "ingest.where.column": "column “{column}”",
    "ingest.where.file": "file",
    "ingest.found": "found: “{found}”",
    "ingest.expected": "expected: {expected}",
    "ingest.suggestion": "suggestion: {suggestion}",
    "ingest.notice.imported": "Imported: {file} ({office}) – {rows} values, measures {measures}.",
    "ingest.notice.counts": "{new} new, {replaced} replaced, {unchanged} unchanged.",
    "ingest.notice.percent_hint": "Please check: all values for “{indicator}” (unit %) lie between 0 and 1 – were the cells formatted as percent (12.5 % is then stored as 0.125)? If so, enter them as numbers (12.5) and deliver again.",
    "ingest.notice.duplicate": "Already there: {file} ({office}) has the same content as “{earlier}” of {day}; archived, not counted twice.",
    "ingest.notice.rejected": "Rejected: {file} ({office}) – {n} problem(s), nothing taken over.",
    "ingest.notice.report": "All problems: abgelehnt/{report}",
    "ingest.notice.no_office": "office not given",
    "ingest.notice.move_failed": "The file {file} was processed but could not be moved ({detail}); it stays in the inbox.",
    "ingest.notice.internal": "The file {file} could not be processed because of an internal error ({detail}); it stays in the inbox and will be tried again.",
    "ingest.cli.imported": "{file}: imported ({rows} values; {new} new, {replaced} replaced, {unchanged} unchanged)",
    "ingest.cli.duplicate": "{file}: already there (same content as delivery {delivery}), not counted twice",
    "ingest.cli.rejected": "{file}: rejected, {n} problem(s), see {report}",
    "ingest.cli.first": "  {problem}",
    "ingest.cli.missing": "{file}: no such file",
    "ingest.cli.retry": "{file}: the file is still changing; please import it again later",
    "watch.limit": (
        "The shared folder {path} cannot be watched through file events ({detail}: the system's limit of watched "
        "folders is reached). Sozialmonitor looks every {interval} seconds instead. To fix it for good, raise "
        "fs.inotify.max_user_watches or max_user_instances."
    ),
    "watch.unavailable": "The shared folder {path} cannot be reached ({detail}); Sozialmonitor tries again every {minutes} minutes.",
    "watch.failed": (
        "The shared folder {path} cannot be watched ({detail}). Sozialmonitor looks every {interval} seconds instead."
    ),
    "watch.catalogue_broken": "The changed catalogue {path} has errors; the last valid catalogue stays in force.",
    "watch.catalogue_problems": "The changed catalogue {path} was taken over but has remarks:",
    "watch.catalogue_ok": "The changed catalogue was taken over ({measures} measures, {indicators} indicators, {persons} persons).",
    "help.indikatoren": "Indicators of a measure: unit, frequency, delivering office, latest value, next due date.",
    "ingest.indicators.title": "Indicators of {measure}:",
    "ingest.indicators.none": "The catalogue lists no indicators for {measure} yet.",
    "ingest.indicators.meta": "{unit} · {frequency} · delivered by: {office}",
    "ingest.indicators.latest": "latest value: {value} ({period}{area})",
    "ingest.indicators.no_value": "nothing delivered yet",
    "ingest.indicators.next_due": "next delivery: {period}, due on {due}",
    "ingest.indicators.overdue": "overdue: {period}, due since {due}",
    "ingest.indicators.areas": ", {n} areas",
    "help.lieferungen": "Delivery completeness per office and period; overdue ones first.",
    "ingest.deliveries.title": "Deliveries on {day}:",
    "ingest.deliveries.overdue": "Overdue:",
    "ingest.deliveries.complete": "Delivered completely:",
    "ingest.deliveries.none_expected": "No delivery is due yet (no indicators with a frequency in the catalogue).",
    "ingest.deliveries.none_overdue": "No delivery is overdue.",
    "ingest.deliveries.group": "{office} · {period}: {delivered} of {expected} delivered",
    "ingest.deliveries.missing": "missing: {indicator} ({measure}), due since {due}",
    "ingest.deliveries.more": "… and {n} older complete periods",
    "ingest.deliveries.no_office": "no office",
}
