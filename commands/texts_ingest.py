"""Texts of the reading layer (watchers/read.py): problems in delivered indicator files.

For every problem code `C` there is `C` (what was expected) and `C.hint` (a suggestion). Templates
are filled (by commands/ingest_words.py) with str.format from the problem's params plus `found`, `row`,
`column`, `sheet`, `letter`, `field_name` (the column's name in the language) and `formats` (the accepted
file types).
"""

DE = {
    # framing of a problem and of the report
    "read.where.sheet": "Tabellenblatt „{sheet}“",
    "read.where.row": "Zeile {row}",
    "read.where.more_rows": "Zeile {row} (und {more} weitere)",
    "read.where.column": "Spalte „{column}“",
    "read.where.column_letter": "Spalte „{column}“ ({letter})",
    "read.where.file": "Datei",
    "read.found": "gefunden: „{found}“",
    "read.found_nothing": "gefunden: nichts",
    "read.expected": "erwartet: {expected}",
    "read.suggestion": "Vorschlag: {suggestion}",
    "read.report.title": "Die Datei „{filename}“ wurde nicht übernommen, nichts daraus wurde gespeichert. {count} Problem(e):",
    "read.report.more": "… und {count} weitere Probleme. Bitte erst die genannten beheben und die Datei erneut ablegen.",
    # column (field) names
    "read.field.measure": "Maßnahme",
    "read.field.indicator": "Indikator",
    "read.field.period": "Zeitraum",
    "read.field.value": "Wert",
    "read.field.unit": "Einheit",
    "read.field.area": "Gebiet",
    "read.field.office": "Quelle",
    "read.field.note": "Bemerkung",
    "read.style.de": "deutschen (1.234,5)",
    "read.style.en": "englischen (1,234.5)",
    # file-level problems
    "read.unknown_extension": "eine Datei vom Typ {formats}",
    "read.unknown_extension.hint": "Bitte in Excel oder LibreOffice als .xlsx, .ods oder .csv speichern.",
    "read.old_excel": "eine Excel-Datei im Format .xlsx (Excel 2007 oder neuer) ohne Kennwortschutz",
    "read.old_excel.hint": (
        "Das ist eine alte .xls-Datei oder eine kennwortgeschützte Arbeitsmappe. Bitte in Excel öffnen, "
        "einen Kennwortschutz entfernen und als „Excel-Arbeitsmappe (*.xlsx)“ speichern."
    ),
    "read.empty_file": "eine Datei mit Kopfzeile und mindestens einer Datenzeile",
    "read.empty_file.hint": "Die Datei ist leer (0 Byte). Bitte erneut exportieren bzw. speichern und ablegen.",
    "read.not_text": "eine Textdatei (CSV), getrennt durch Semikolon, Komma oder Tabulator",
    "read.not_text.hint": (
        "Die Datei enthält Binärdaten. Ist es eine Excel-Datei mit falscher Endung? Dann mit der Endung "
        ".xlsx ablegen oder in Excel „Speichern unter → CSV (Trennzeichen-getrennt)“ wählen."
    ),
    "read.not_spreadsheet": "eine Tabellendatei (Excel .xlsx/.xlsm oder LibreOffice .ods)",
    "read.not_spreadsheet.hint": (
        "Der Inhalt passt nicht zur Endung „{found}“. Bitte die Datei in Excel oder LibreOffice öffnen "
        "und als .xlsx oder .ods neu speichern."
    ),
    "read.damaged": "eine vollständige, unbeschädigte Tabellendatei",
    "read.damaged.hint": (
        "Die Datei ist beschädigt oder unvollständig (z. B. abgebrochene Übertragung). "
        "Bitte erneut speichern und ablegen. Technische Angabe: {detail}"
    ),
    "read.too_large": "höchstens {limit_mb} MB entpackte Daten",
    "read.too_large.hint": (
        "Die Datei entpackt sich auf {size_mb} MB (Verhältnis {ratio}:1) und wird aus Sicherheitsgründen "
        "nicht geöffnet. Bitte nur die Indikatorwerte in einer schlanken Datei ablegen."
    ),
    "read.too_many_cells": "höchstens {limit} Zellen je Tabellenblatt",
    "read.too_many_cells.hint": (
        "Das Blatt reicht bis Zeile {rows} und Spalte {cols}. Bitte leere Zeilen und Spalten am Ende "
        "löschen (Strg+Ende zeigt die letzte benutzte Zelle) und erneut speichern."
    ),
    "read.too_many_rows": "höchstens {limit} Zeilen",
    "read.too_many_rows.hint": "Bitte die Lieferung auf mehrere Dateien aufteilen oder leere Zeilen löschen.",
    "read.no_header": (
        "in den ersten {search} Zeilen eine Kopfzeile mit den Spalten Maßnahme, Indikator, Zeitraum und "
        "Wert (oder Maßnahme, Indikator und je einer Spalte pro Zeitraum wie 2018, 2018-Q3)"
    ),
    "read.no_header.hint": (
        "Bitte die Spaltenüberschriften wie in der Vorlage verwenden (auch englisch: measure, indicator, "
        "period, value); die Vorlage Ihres Amts gibt es im Chat mit /vorlage AMT oder mit „sozialmonitor vorlage AMT“. "
        "Bei CSV als Trennzeichen Semikolon, Komma oder Tabulator verwenden."
    ),
    # columns
    "read.missing_column": "eine Spalte „{field_name}“",
    "read.missing_column.hint": "Bitte die Spalte ergänzen. Erkannte Überschriften dafür: {names}.",
    "read.duplicate_column": "nur eine Spalte für „{field_name}“",
    "read.duplicate_column.hint": "Die Spalten {columns} meinen dasselbe. Bitte eine davon umbenennen oder löschen.",
    "read.mixed_layout": "entweder eine Spalte „Zeitraum“ mit „Wert“ (Langformat) oder je Zeitraum eine Spalte (Breitformat)",
    "read.mixed_layout.hint": "Bitte die Zeitraum-Spalten ({columns}) oder die Spalten Zeitraum/Wert entfernen.",
    "read.bad_period_header": "als Spaltenüberschrift einen Zeitraum wie 2018, 2018-Q3, 2018-09 oder 30.09.2018",
    "read.bad_period_header.hint": "Bitte die Überschrift als Zeitraum schreiben, z. B. 2018-Q3 statt „{found}“.",
    "read.duplicate_period": "jeden Zeitraum nur einmal als Spalte",
    "read.duplicate_period.hint": "Die Spalten {columns} meinen denselben Zeitraum {key}. Bitte eine davon löschen.",
    # rows and cells
    "read.extra_cells": "höchstens {count} Zellen je Zeile wie in der Kopfzeile",
    "read.extra_cells.hint": (
        "Enthält ein Wert das Trennzeichen? Bei Komma als Trennzeichen Dezimalzahlen in Anführungszeichen "
        "setzen („12,5“) oder die Datei mit Semikolon als Trennzeichen speichern."
    ),
    "read.required_empty": "einen Eintrag in der Spalte „{field_name}“",
    "read.required_empty.hint": "Bitte ausfüllen; jede Zeile braucht Maßnahme, Indikator und Zeitraum.",
    "read.bad_period": (
        "einen Zeitraum wie 2018, 2018-H1, 2018-Q3, Q3/2018, 3. Quartal 2018, 2018-09, 09/2018, "
        "30.09.2018 oder 2018-09-30"
    ),
    "read.bad_period.hint": "Bitte den Zeitraum in einer dieser Schreibweisen angeben.",
    "read.bad_number": "eine Zahl wie 1.234,5 oder 12,5 (bzw. 1234.5); kein Wert: -, . oder leer",
    "read.bad_number.hint": "Bitte nur die Zahl eintragen; Einheiten gehören in die Spalte „Einheit“, Hinweise in „Bemerkung“.",
    "read.number_style_conflict": "eine Zahl im {style_name} Format wie in den übrigen Zeilen dieser Tabelle",
    "read.number_style_conflict.hint": (
        "In dieser Tabelle sind deutsche und englische Zahlen gemischt. Bitte einheitlich schreiben, "
        "z. B. überall 1.234,5 (Dezimalkomma)."
    ),
    "read.number_ambiguous": "eine eindeutig lesbare Zahl",
    "read.number_ambiguous.hint": (
        "„{found}“ kann {thousands} oder {decimal_de} bedeuten, und nichts in der Datei zeigt, welches Format gilt "
        "(keine eindeutige Zahl, keine Anzahl als Einheit; {count} solche Werte). Bitte ohne Tausendertrennzeichen "
        "schreiben (1500) oder die Dezimalstellen eindeutig angeben (1,5)."
    ),
    "read.value_is_date": "eine Zahl",
    "read.value_is_date.hint": (
        "Die Zelle ist ein Datum oder eine Uhrzeit; Excel hat den Wert vermutlich umgewandelt "
        "(z. B. 1.5 → 01. Mai). Bitte die Spalte als Zahl formatieren und den Wert neu eingeben."
    ),
    "read.no_rows": "mindestens eine Datenzeile unter der Kopfzeile",
    "read.no_rows.hint": "Die Datei enthält nur die Kopfzeile. Bitte die Werte eintragen und erneut ablegen.",
    "read.too_many_problems": "eine Datei mit weniger Fehlern",
    "read.too_many_problems.hint": "Es gibt {count} weitere Probleme, die hier nicht einzeln aufgeführt sind.",
    "read.unclosed_quote": "zu jedem Anführungszeichen (\") am Anfang einer Zelle ein schließendes",
    "read.unclosed_quote.hint": (
        "Ab dieser Zeile steht ein Anführungszeichen ohne Gegenstück, so würde der ganze Rest der Datei eine "
        "Zelle. Bitte das Zeichen entfernen oder verdoppeln (\"\") und die Datei erneut ablegen."
    ),
}

EN = {
    "read.where.sheet": "sheet “{sheet}”",
    "read.where.row": "row {row}",
    "read.where.more_rows": "row {row} (and {more} more)",
    "read.where.column": "column “{column}”",
    "read.where.column_letter": "column “{column}” ({letter})",
    "read.where.file": "file",
    "read.found": "found: “{found}”",
    "read.found_nothing": "found: nothing",
    "read.expected": "expected: {expected}",
    "read.suggestion": "suggestion: {suggestion}",
    "read.report.title": "The file “{filename}” was not imported; nothing from it was stored. {count} problem(s):",
    "read.report.more": "… and {count} more problems. Please fix the ones listed and drop the file again.",
    "read.field.measure": "measure",
    "read.field.indicator": "indicator",
    "read.field.period": "period",
    "read.field.value": "value",
    "read.field.unit": "unit",
    "read.field.area": "area",
    "read.field.office": "office",
    "read.field.note": "note",
    "read.style.de": "German (1.234,5)",
    "read.style.en": "English (1,234.5)",
    "read.unknown_extension": "a file of type {formats}",
    "read.unknown_extension.hint": "Please save it from Excel or LibreOffice as .xlsx, .ods or .csv.",
    "read.old_excel": "an Excel file in .xlsx format (Excel 2007 or later) without password protection",
    "read.old_excel.hint": (
        "This is an old .xls file or a password-protected workbook. Please open it in Excel, remove any "
        "password and save it as “Excel Workbook (*.xlsx)”."
    ),
    "read.empty_file": "a file with a header row and at least one data row",
    "read.empty_file.hint": "The file is empty (0 bytes). Please export or save it again.",
    "read.not_text": "a text file (CSV) separated by semicolons, commas or tabs",
    "read.not_text.hint": (
        "The file contains binary data. Is it an Excel file with the wrong extension? Then drop it as .xlsx "
        "or use “Save as → CSV” in Excel."
    ),
    "read.not_spreadsheet": "a spreadsheet (Excel .xlsx/.xlsm or LibreOffice .ods)",
    "read.not_spreadsheet.hint": (
        "The content does not match the extension “{found}”. Please open the file in Excel or LibreOffice "
        "and save it again as .xlsx or .ods."
    ),
    "read.damaged": "a complete, undamaged spreadsheet",
    "read.damaged.hint": (
        "The file is damaged or incomplete (e.g. an interrupted copy). Please save and drop it again. "
        "Technical detail: {detail}"
    ),
    "read.too_large": "at most {limit_mb} MB of unpacked data",
    "read.too_large.hint": (
        "The file unpacks to {size_mb} MB (ratio {ratio}:1) and is not opened for safety. Please drop "
        "only the indicator values in a lean file."
    ),
    "read.too_many_cells": "at most {limit} cells per sheet",
    "read.too_many_cells.hint": (
        "The sheet reaches row {rows} and column {cols}. Please delete empty rows and columns at the end "
        "(Ctrl+End shows the last used cell) and save again."
    ),
    "read.too_many_rows": "at most {limit} rows",
    "read.too_many_rows.hint": "Please split the delivery into several files or delete empty rows.",
    "read.no_header": (
        "within the first {search} rows a header row with the columns measure, indicator, period and value "
        "(or measure, indicator and one column per period such as 2018, 2018-Q3)"
    ),
    "read.no_header.hint": (
        "Please use the column headers of the template (German or English); your office's template comes with "
        "/template OFFICE in the chat or “sozialmonitor vorlage OFFICE”. For CSV use a semicolon, comma "
        "or tab as the delimiter."
    ),
    "read.missing_column": "a column “{field_name}”",
    "read.missing_column.hint": "Please add the column. Headers recognised for it: {names}.",
    "read.duplicate_column": "only one column for “{field_name}”",
    "read.duplicate_column.hint": "The columns {columns} mean the same. Please rename or delete one of them.",
    "read.mixed_layout": "either a period column with a value column (long layout) or one column per period (wide layout)",
    "read.mixed_layout.hint": "Please remove the period columns ({columns}) or the period/value columns.",
    "read.bad_period_header": "a period as column header, such as 2018, 2018-Q3, 2018-09 or 30.09.2018",
    "read.bad_period_header.hint": "Please write the header as a period, e.g. 2018-Q3 instead of “{found}”.",
    "read.duplicate_period": "each period only once as a column",
    "read.duplicate_period.hint": "The columns {columns} mean the same period {key}. Please delete one of them.",
    "read.extra_cells": "at most {count} cells per row, as in the header row",
    "read.extra_cells.hint": (
        "Does a value contain the delimiter? With comma as delimiter put decimal numbers in quotes (“12,5”) "
        "or save the file with semicolons as delimiter."
    ),
    "read.required_empty": "an entry in the column “{field_name}”",
    "read.required_empty.hint": "Please fill it in; every row needs a measure, an indicator and a period.",
    "read.bad_period": (
        "a period such as 2018, 2018-H1, 2018-Q3, Q3/2018, 3. Quartal 2018, 2018-09, 09/2018, 30.09.2018 "
        "or 2018-09-30"
    ),
    "read.bad_period.hint": "Please write the period in one of these forms.",
    "read.bad_number": "a number such as 1234.5 (or German 1.234,5 / 12,5); no value: -, . or empty",
    "read.bad_number.hint": "Please enter the number only; units belong in the “unit” column, remarks in “note”.",
    "read.number_style_conflict": "a number in the {style_name} format like the other rows of this table",
    "read.number_style_conflict.hint": (
        "German and English numbers are mixed in this table. Please write them uniformly, e.g. 1,234.5 "
        "everywhere."
    ),
    "read.number_ambiguous": "an unambiguous number",
    "read.number_ambiguous.hint": (
        "“{found}” can mean {thousands} or {decimal_en}, and nothing in the file shows which format applies (no "
        "unambiguous number, no count as unit; {count} such values). Please write it without a thousands separator "
        "(1500) or make the decimals unambiguous (1.5)."
    ),
    "read.value_is_date": "a number",
    "read.value_is_date.hint": (
        "The cell is a date or time; Excel probably converted the value (e.g. 1.5 → 1 May). Please format "
        "the column as number and enter the value again."
    ),
    "read.no_rows": "at least one data row below the header row",
    "read.no_rows.hint": "The file only has the header row. Please enter the values and drop it again.",
    "read.too_many_problems": "a file with fewer errors",
    "read.too_many_problems.hint": "There are {count} more problems that are not listed one by one.",
    "read.unclosed_quote": "a closing quotation mark for every one (\") that opens a cell",
    "read.unclosed_quote.hint": (
        "From this row on a quotation mark has no partner, so the whole rest of the file would become one cell. "
        "Please remove or double it (\"\") and drop the file again."
    ),
}
