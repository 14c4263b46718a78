<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AgentFiguresModel</name>
    <message>
        <source>Agent</source>
        <translation>Mitarbeiter/in</translation>
    </message>
    <message>
        <source>Present</source>
        <translation>Anwesend</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Zugewiesen</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>In Arbeit</translation>
    </message>
    <message>
        <source>Resolved today</source>
        <translation>Heute gelöst</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>ja</translation>
    </message>
    <message>
        <source>no</source>
        <translation>nein</translation>
    </message>
    <message>
        <source>Drop tickets here to assign them to {name}</source>
        <translation>Tickets hier ablegen, um sie {name} zuzuweisen</translation>
    </message>
</context>
<context>
    <name>App</name>
    <message>
        <source>Something went wrong ({error}); details are in the log.</source>
        <translation>Etwas ist schiefgegangen ({error}); Einzelheiten stehen im Protokoll.</translation>
    </message>
</context>
<context>
    <name>CallCard</name>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Several records fit. Who is calling?</source>
        <translation>Mehrere Datensätze passen. Wer ruft an?</translation>
    </message>
    <message>
        <source>Open record</source>
        <translation>Datensatz öffnen</translation>
    </message>
    <message>
        <source>New ticket…</source>
        <translation>Neues Ticket …</translation>
    </message>
    <message>
        <source>Create contact</source>
        <translation>Kontakt anlegen</translation>
    </message>
    <message>
        <source>Add to existing…</source>
        <translation>Bei Kontakt ergänzen …</translation>
    </message>
    <message>
        <source>Take a note… (Ctrl+Enter saves it into this call&apos;s history entry)</source>
        <translation>Notiz … (Strg+Eingabe speichert sie im Verlaufseintrag dieses Anrufs)</translation>
    </message>
    <message>
        <source>Save note</source>
        <translation>Notiz speichern</translation>
    </message>
    <message>
        <source>line {line}</source>
        <translation>Leitung {line}</translation>
    </message>
    <message>
        <source>Number withheld</source>
        <translation>Rufnummer unterdrückt</translation>
    </message>
    <message>
        <source>The caller did not send a number.</source>
        <translation>Der Anrufer hat keine Nummer übermittelt.</translation>
    </message>
    <message>
        <source>Unknown caller</source>
        <translation>Unbekannter Anrufer</translation>
    </message>
    <message>
        <source>The database could not be asked who is calling.</source>
        <translation>Die Datenbank konnte nicht gefragt werden, wer anruft.</translation>
    </message>
    <message>
        <source>This number is not in the CRM yet.</source>
        <translation>Diese Nummer ist noch nicht im CRM.</translation>
    </message>
    <message>
        <source>Organization</source>
        <translation>Organisation</translation>
    </message>
    <message>
        <source>Caller ID name: {name}</source>
        <translation>Übermittelter Name: {name}</translation>
    </message>
    <message>
        <source>no entries yet</source>
        <translation>noch keine Einträge</translation>
    </message>
    <message>
        <source>Last contacts</source>
        <translation>Letzte Kontakte</translation>
    </message>
    <message>
        <source>Open tickets ({count})</source>
        <translation>Offene Tickets ({count})</translation>
    </message>
    <message>
        <source>Note saved to the call&apos;s history entry.</source>
        <translation>Notiz im Verlaufseintrag des Anrufs gespeichert.</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>Wird gespeichert …</translation>
    </message>
</context>
<context>
    <name>CallTableModel</name>
    <message>
        <source>(unknown caller)</source>
        <translation>(unbekannter Anrufer)</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Caller</source>
        <translation>Anrufer</translation>
    </message>
    <message>
        <source>Number</source>
        <translation>Nummer</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>Ergebnis</translation>
    </message>
</context>
<context>
    <name>CallTray</name>
    <message>
        <source>Show desktop_crm</source>
        <extracomment>the notification of a mail from a known customer was clicked: (kind, record id)</extracomment>
        <translation>desktop_crm anzeigen</translation>
    </message>
    <message>
        <source>Simulate incoming call…</source>
        <translation>Eingehenden Anruf simulieren …</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Beenden</translation>
    </message>
    <message>
        <source>Mail from {name}</source>
        <translation>Mail von {name}</translation>
    </message>
    <message>
        <source>Mail: {states}</source>
        <translation>Mail: {states}</translation>
    </message>
    <message>
        <source>Telephony: no source configured (simulate a call from the Calls menu)</source>
        <translation>Telefonie: keine Quelle eingerichtet (Anruf simulieren im Menü Anrufe)</translation>
    </message>
    <message>
        <source>Telephony: {states}</source>
        <translation>Telefonie: {states}</translation>
    </message>
    <message numerus="yes">
        <source>%n missed call(s)</source>
        <translation>
            <numerusform>%n verpasster Anruf</numerusform>
            <numerusform>%n verpasste Anrufe</numerusform>
        </translation>
    </message>
    <message>
        <source>Missed calls: {count}</source>
        <translation>Verpasste Anrufe: {count}</translation>
    </message>
</context>
<context>
    <name>CallerPopup</name>
    <message>
        <source>Outgoing call</source>
        <translation>Ausgehender Anruf</translation>
    </message>
    <message>
        <source>Incoming call</source>
        <translation>Eingehender Anruf</translation>
    </message>
    <message>
        <source>Answered</source>
        <translation>Angenommen</translation>
    </message>
    <message>
        <source>Answered elsewhere</source>
        <translation>Anderswo angenommen</translation>
    </message>
    <message>
        <source>Missed call</source>
        <translation>Verpasster Anruf</translation>
    </message>
    <message>
        <source>Call ended</source>
        <translation>Anruf beendet</translation>
    </message>
    <message>
        <source>matched exactly</source>
        <translation>genauer Treffer</translation>
    </message>
    <message>
        <source>switchboard, extension {extension}</source>
        <translation>Zentrale, Durchwahl {extension}</translation>
    </message>
    <message>
        <source>switchboard</source>
        <translation>Zentrale</translation>
    </message>
    <message>
        <source>only the last digits match</source>
        <translation>nur die letzten Ziffern stimmen überein</translation>
    </message>
    <message>
        <source>colleague</source>
        <translation>Kollege/Kollegin</translation>
    </message>
    <message>
        <source>matched by address</source>
        <translation>über die Adresse erkannt</translation>
    </message>
    <message numerus="yes">
        <source>+ %n more call(s)</source>
        <translation>
            <numerusform>+ %n weiterer Anruf</numerusform>
            <numerusform>+ %n weitere Anrufe</numerusform>
        </translation>
    </message>
    <message>
        <source>Not saved: {reason}</source>
        <translation>Nicht gespeichert: {reason}</translation>
    </message>
</context>
<context>
    <name>CallsPage</name>
    <message>
        <source>Missed calls only</source>
        <translation>Nur verpasste Anrufe</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message numerus="yes">
        <source>%n call(s)</source>
        <translation>
            <numerusform>%n Anruf</numerusform>
            <numerusform>%n Anrufe</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConflictDialog</name>
    <message>
        <source>Changed by someone else</source>
        <translation>Von jemand anderem geändert</translation>
    </message>
    <message>
        <source>While you were editing, someone else saved this record (now version {current}; you started from version {mine}). Nothing has been overwritten. Differences are marked.</source>
        <translation>Während Sie bearbeitet haben, hat jemand anderes diesen Datensatz gespeichert (jetzt Version {current}; Sie haben mit Version {mine} begonnen). Nichts wurde überschrieben. Unterschiede sind markiert.</translation>
    </message>
    <message>
        <source>Field</source>
        <translation>Feld</translation>
    </message>
    <message>
        <source>Saved by the other person</source>
        <translation>Von der anderen Person gespeichert</translation>
    </message>
    <message>
        <source>Yours</source>
        <translation>Ihre Fassung</translation>
    </message>
    <message>
        <source>Save mine anyway</source>
        <translation>Meine trotzdem speichern</translation>
    </message>
    <message>
        <source>Discard mine, show theirs</source>
        <translation>Meine verwerfen, andere anzeigen</translation>
    </message>
    <message>
        <source>Keep editing</source>
        <translation>Weiter bearbeiten</translation>
    </message>
</context>
<context>
    <name>ContactDialog</name>
    <message>
        <source>New contact</source>
        <translation>Neuer Kontakt</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Kontakt</translation>
    </message>
    <message>
        <source>Salutation</source>
        <translation>Anrede</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>First name</source>
        <translation>Vorname</translation>
    </message>
    <message>
        <source>Last name</source>
        <translation>Nachname</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Type to search organizations</source>
        <translation>Tippen, um Organisationen zu suchen</translation>
    </message>
    <message>
        <source>Organization:</source>
        <translation>Organisation:</translation>
    </message>
    <message>
        <source>Position:</source>
        <translation>Position:</translation>
    </message>
    <message>
        <source>Phone:</source>
        <translation>Telefon:</translation>
    </message>
    <message>
        <source>Add number</source>
        <translation>Nummer hinzufügen</translation>
    </message>
    <message>
        <source>E-mail:</source>
        <translation>E-Mail:</translation>
    </message>
    <message>
        <source>Add address</source>
        <translation>Adresse hinzufügen</translation>
    </message>
    <message>
        <source>Street:</source>
        <translation>Straße:</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>PLZ</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ort</translation>
    </message>
    <message>
        <source>Country (DE)</source>
        <translation>Land (DE)</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>Ort:</translation>
    </message>
    <message>
        <source>comma-separated, e.g. VIP, Wartungsvertrag</source>
        <translation>durch Kommas getrennt, z. B. VIP, Wartungsvertrag</translation>
    </message>
    <message>
        <source>Tags:</source>
        <translation>Schlagwörter:</translation>
    </message>
    <message>
        <source>Notes:</source>
        <translation>Notizen:</translation>
    </message>
    <message>
        <source>Choose the organization from the list (type its first letters).</source>
        <translation>Wählen Sie die Organisation aus der Liste (die ersten Buchstaben tippen).</translation>
    </message>
    <message>
        <source>Delete the contact {name}?</source>
        <translation>Den Kontakt {name} löschen?</translation>
    </message>
    <message>
        <source>Deleted with it: {phones} phone number(s) and {emails} e-mail address(es).
Kept: {entries} history entries (they stay with the organization) and {tickets} ticket(s).</source>
        <translation>Mitgelöscht werden: {phones} Telefonnummer(n) und {emails} E-Mail-Adresse(n).
Erhalten bleiben: {entries} Verlaufseinträge (sie bleiben bei der Organisation) und {tickets} Ticket(s).</translation>
    </message>
</context>
<context>
    <name>ContactTableModel</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Organization</source>
        <translation>Organisation</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Telefon</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ort</translation>
    </message>
</context>
<context>
    <name>ContactView</name>
    <message>
        <source>Select a contact to see its details and history.</source>
        <extracomment>contact id, the text, the kind (a note or a logged call)</extracomment>
        <translation>Wählen Sie einen Kontakt, um Stammdaten und Verlauf zu sehen.</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>Bearbeiten …</translation>
    </message>
    <message>
        <source>All entries</source>
        <translation>Alle Einträge</translation>
    </message>
    <message>
        <source>Write a note or what the call was about…</source>
        <translation>Notiz oder worum es im Anruf ging …</translation>
    </message>
    <message>
        <source>Add note</source>
        <translation>Notiz hinzufügen</translation>
    </message>
    <message>
        <source>Log call</source>
        <translation>Anruf erfassen</translation>
    </message>
    <message>
        <source>Select an entry to read it here.</source>
        <translation>Wählen Sie einen Eintrag, um ihn hier zu lesen.</translation>
    </message>
    <message>
        <source>History: no entries yet</source>
        <translation>Verlauf: noch keine Einträge</translation>
    </message>
    <message>
        <source>History (latest {count} entries)</source>
        <translation>Verlauf (die neuesten {count} Einträge)</translation>
    </message>
    <message>
        <source>History ({count})</source>
        <translation>Verlauf ({count})</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>(ohne Namen)</translation>
    </message>
    <message>
        <source>Organization</source>
        <translation>Organisation</translation>
    </message>
    <message>
        <source>Colleagues</source>
        <translation>Kollegen</translation>
    </message>
    <message>
        <source>Open tickets</source>
        <translation>Offene Tickets</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Anschrift</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>Schlagwörter</translation>
    </message>
    <message>
        <source>Notes</source>
        <translation>Notizen</translation>
    </message>
    <message>
        <source>No phone numbers, e-mail addresses or address stored.</source>
        <translation>Keine Telefonnummern, E-Mail-Adressen oder Anschrift gespeichert.</translation>
    </message>
</context>
<context>
    <name>DemoData</name>
    <message>
        <source>The database is empty. Load demo data?</source>
        <translation>Die Datenbank ist leer. Demodaten laden?</translation>
    </message>
    <message>
        <source>Load demo data into this database?</source>
        <translation>Demodaten in diese Datenbank laden?</translation>
    </message>
    <message>
        <source>Demo data</source>
        <translation>Demodaten</translation>
    </message>
    <message>
        <source>{count} invented contacts with organizations and history are added, so you can try searching and the history view.</source>
        <translation>Es werden {count} erfundene Kontakte mit Firmen und Verlauf angelegt, damit Sie Suche und Verlauf ausprobieren können.</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <source>The record no longer exists; it may have been deleted by someone else.</source>
        <translation>Der Datensatz existiert nicht mehr; vielleicht hat ihn jemand anderes gelöscht.</translation>
    </message>
    <message>
        <source>The connection to the database was lost: {detail}</source>
        <translation>Die Verbindung zur Datenbank ist abgebrochen: {detail}</translation>
    </message>
    <message>
        <source>Unexpected error: {detail}</source>
        <translation>Unerwarteter Fehler: {detail}</translation>
    </message>
    <message>
        <source>Database error: {detail}</source>
        <translation>Datenbankfehler: {detail}</translation>
    </message>
</context>
<context>
    <name>FindContactDialog</name>
    <message>
        <source>Name, number or e-mail</source>
        <translation>Name, Nummer oder E-Mail</translation>
    </message>
</context>
<context>
    <name>HistoryModel</name>
    <message>
        <source>Type</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Direction / outcome</source>
        <translation>Richtung / Ergebnis</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Betreff</translation>
    </message>
</context>
<context>
    <name>ImapAccountsEditor</name>
    <message>
        <source>Add account</source>
        <translation>Konto hinzufügen</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>e.g. imap.example.de</source>
        <translation>z. B. imap.example.de</translation>
    </message>
    <message>
        <source>standard (993 or 143)</source>
        <translation>Standard (993 oder 143)</translation>
    </message>
    <message>
        <source>TLS (port 993)</source>
        <translation>TLS (Port 993)</translation>
    </message>
    <message>
        <source>STARTTLS (port 143)</source>
        <translation>STARTTLS (Port 143)</translation>
    </message>
    <message>
        <source>none (a server on this machine only)</source>
        <translation>keine (nur für einen Server auf diesem Rechner)</translation>
    </message>
    <message>
        <source>no secure keyring on this system</source>
        <translation>kein sicherer Schlüsselbund auf diesem System</translation>
    </message>
    <message>
        <source>unchanged (stored in the system keyring)</source>
        <translation>unverändert (im Schlüsselbund des Systems gespeichert)</translation>
    </message>
    <message>
        <source>e.g. imap-office</source>
        <translation>z. B. imap-buero</translation>
    </message>
    <message>
        <source>INBOX, Sent</source>
        <translation>INBOX, Gesendet</translation>
    </message>
    <message>
        <source>Check the server&apos;s certificate</source>
        <translation>Zertifikat des Servers prüfen</translation>
    </message>
    <message>
        <source>optional: the server&apos;s certificate (PEM file)</source>
        <translation>optional: das Zertifikat des Servers (PEM-Datei)</translation>
    </message>
    <message>
        <source> days</source>
        <translation> Tage</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>Server:</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>Port:</translation>
    </message>
    <message>
        <source>Encryption:</source>
        <translation>Verschlüsselung:</translation>
    </message>
    <message>
        <source>User:</source>
        <translation>Benutzer:</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>Passwort:</translation>
    </message>
    <message>
        <source>Keyring entry:</source>
        <translation>Eintrag im Schlüsselbund:</translation>
    </message>
    <message>
        <source>Folders:</source>
        <translation>Ordner:</translation>
    </message>
    <message>
        <source>CA file:</source>
        <translation>CA-Datei:</translation>
    </message>
    <message>
        <source>Read back:</source>
        <translation>Rückwirkend lesen:</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Verbindung testen</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde …</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>Fehlgeschlagen: {reason}</translation>
    </message>
</context>
<context>
    <name>ImportReportDialog</name>
    <message>
        <source>Import report</source>
        <translation>Importbericht</translation>
    </message>
    <message>
        <source>Imported: {created} new, {updated} completed, {unchanged} already there. Skipped: {skipped}.</source>
        <translation>Importiert: {created} neu, {updated} ergänzt, {unchanged} schon vorhanden. Übersprungen: {skipped}.</translation>
    </message>
    <message>
        <source>The import was cancelled; the contacts counted here were saved.</source>
        <translation>Der Import wurde abgebrochen; die hier gezählten Kontakte sind gespeichert.</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>Zeile</translation>
    </message>
    <message>
        <source>Why</source>
        <translation>Grund</translation>
    </message>
    <message>
        <source>Problems ({count}):</source>
        <translation>Probleme ({count}):</translation>
    </message>
    <message>
        <source>No problems.</source>
        <translation>Keine Probleme.</translation>
    </message>
</context>
<context>
    <name>Labels</name>
    <message>
        <source>Call</source>
        <translation>Anruf</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>Notiz</translation>
    </message>
    <message>
        <source>Meeting</source>
        <translation>Termin</translation>
    </message>
    <message>
        <source>Letter</source>
        <translation>Brief</translation>
    </message>
    <message>
        <source>Ticket</source>
        <translation>Ticket</translation>
    </message>
    <message>
        <source>incoming</source>
        <translation>eingehend</translation>
    </message>
    <message>
        <source>outgoing</source>
        <translation>ausgehend</translation>
    </message>
    <message>
        <source>internal</source>
        <translation>intern</translation>
    </message>
    <message>
        <source>answered</source>
        <translation>angenommen</translation>
    </message>
    <message>
        <source>missed</source>
        <translation>verpasst</translation>
    </message>
    <message>
        <source>answered elsewhere</source>
        <translation>anderswo angenommen</translation>
    </message>
    <message>
        <source>ringing</source>
        <translation>klingelt</translation>
    </message>
    <message>
        <source>not reached</source>
        <translation>nicht erreicht</translation>
    </message>
    <message>
        <source>busy</source>
        <translation>besetzt</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>abgewiesen</translation>
    </message>
    <message>
        <source>voicemail</source>
        <translation>Mailbox</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
    <message>
        <source>no answer</source>
        <translation>keine Antwort</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>abgebrochen</translation>
    </message>
    <message>
        <source>sent</source>
        <translation>gesendet</translation>
    </message>
    <message>
        <source>received</source>
        <translation>empfangen</translation>
    </message>
    <message>
        <source>bounced</source>
        <translation>unzustellbar</translation>
    </message>
    <message>
        <source>done</source>
        <translation>erledigt</translation>
    </message>
    <message>
        <source>open</source>
        <translation>offen</translation>
    </message>
    <message>
        <source>Work</source>
        <translation>Geschäftlich</translation>
    </message>
    <message>
        <source>Mobile</source>
        <translation>Mobil</translation>
    </message>
    <message>
        <source>Home</source>
        <translation>Privat</translation>
    </message>
    <message>
        <source>Fax</source>
        <translation>Fax</translation>
    </message>
    <message>
        <source>Switchboard</source>
        <translation>Zentrale</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Telefon</translation>
    </message>
    <message>
        <source>new</source>
        <translation>neu</translation>
    </message>
    <message>
        <source>waiting for the customer</source>
        <translation>wartet auf Kunden</translation>
    </message>
    <message>
        <source>waiting for a third party</source>
        <translation>wartet auf Dritte</translation>
    </message>
    <message>
        <source>resolved</source>
        <translation>gelöst</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>geschlossen</translation>
    </message>
</context>
<context>
    <name>LiveRefresh</name>
    <message>
        <source>Connection to the database lost — retrying in {seconds} s</source>
        <translation>Verbindung zur Datenbank verloren — neuer Versuch in {seconds} s</translation>
    </message>
    <message>
        <source>Connection to the database lost — retrying now</source>
        <translation>Verbindung zur Datenbank verloren — neuer Versuch läuft</translation>
    </message>
    <message>
        <source>Signed in as {user} ({role})</source>
        <translation>Angemeldet als {user} ({role})</translation>
    </message>
    <message>
        <source>agent</source>
        <translation>Agent</translation>
    </message>
    <message>
        <source>back office</source>
        <translation>Innendienst</translation>
    </message>
    <message>
        <source>supervisor</source>
        <translation>Teamleitung</translation>
    </message>
    <message>
        <source>administrator</source>
        <translation>Administration</translation>
    </message>
</context>
<context>
    <name>Mail</name>
    <message>
        <source>connecting</source>
        <translation>verbindet</translation>
    </message>
    <message>
        <source>reading {folder} ({done} of {total})</source>
        <translation>liest {folder} ({done} von {total})</translation>
    </message>
    <message>
        <source>reading {folder}</source>
        <translation>liest {folder}</translation>
    </message>
    <message>
        <source>idle, waiting for new mail</source>
        <translation>bereit, wartet auf neue Mails</translation>
    </message>
    <message>
        <source>polling for new mail</source>
        <translation>fragt regelmäßig nach neuen Mails</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>verbindet neu</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>angehalten</translation>
    </message>
    <message>
        <source>next attempt in {seconds} s</source>
        <translation>nächster Versuch in {seconds} s</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <extracomment>a list of :class:`MailArrival`, oldest first a :class:`MailStatus`</extracomment>
        <translation>Fehlgeschlagen: {reason}</translation>
    </message>
    <message>
        <source>Connected and logged in as {user} ({folders} folders).</source>
        <translation>Verbunden und als {user} angemeldet ({folders} Ordner).</translation>
    </message>
</context>
<context>
    <name>MailPage</name>
    <message>
        <source>Reload</source>
        <extracomment>the number of open unassigned mails, after every reload a reload finished (tests wait for it)</extracomment>
        <translation>Neu laden</translation>
    </message>
    <message>
        <source>Assign to contact…</source>
        <translation>Kontakt zuordnen …</translation>
    </message>
    <message>
        <source>Assign to organization…</source>
        <translation>Organisation zuordnen …</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>Verwerfen</translation>
    </message>
    <message>
        <source>From: {sender}</source>
        <translation>Von: {sender}</translation>
    </message>
    <message>
        <source>To: {recipients}</source>
        <translation>An: {recipients}</translation>
    </message>
    <message>
        <source>Date: {date}</source>
        <translation>Datum: {date}</translation>
    </message>
    <message>
        <source>Subject: {subject}</source>
        <translation>Betreff: {subject}</translation>
    </message>
    <message>
        <source>Attachments: {names}</source>
        <translation>Anhänge: {names}</translation>
    </message>
    <message numerus="yes">
        <source>%n unassigned mail(s)</source>
        <translation>
            <numerusform>%n nicht zugeordnete Mail</numerusform>
            <numerusform>%n nicht zugeordnete Mails</numerusform>
        </translation>
    </message>
    <message>
        <source>Could not read the mail: {error}</source>
        <translation>Die Mails konnten nicht gelesen werden: {error}</translation>
    </message>
    <message>
        <source>Assign the mail from {sender} to which organization?</source>
        <translation>Welcher Organisation soll die Mail von {sender} zugeordnet werden?</translation>
    </message>
    <message>
        <source>Assign the mail from {sender} to which contact?</source>
        <translation>Welchem Kontakt soll die Mail von {sender} zugeordnet werden?</translation>
    </message>
    <message>
        <source>Not saved: {error}</source>
        <translation>Nicht gespeichert: {error}</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Search name, number, e-mail or customer no.</source>
        <extracomment>the first search (the whole list) has been shown</extracomment>
        <translation>Suche nach Name, Nummer, E-Mail oder Kundennr.</translation>
    </message>
    <message>
        <source>Mails from customers appear here once a mailbox is set up (Settings, IMAP accounts).</source>
        <translation>Mails von Kunden erscheinen hier, sobald ein Postfach eingerichtet ist (Einstellungen, IMAP-Konten).</translation>
    </message>
    <message>
        <source>The ticket board appears here.</source>
        <translation>Hier erscheint das Ticket-Board.</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Kontakte</translation>
    </message>
    <message>
        <source>Organizations</source>
        <translation>Organisationen</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>Anrufe</translation>
    </message>
    <message>
        <source>Mail</source>
        <translation>Mail</translation>
    </message>
    <message>
        <source>Tickets</source>
        <translation>Tickets</translation>
    </message>
    <message>
        <source>Mail ({count})</source>
        <translation>Mail ({count})</translation>
    </message>
    <message>
        <source>Mail from {sender} added to ticket {number}.</source>
        <translation>Mail von {sender} zu Ticket {number} hinzugefügt.</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Reload</source>
        <translation>&amp;Neu laden</translation>
    </message>
    <message>
        <source>&amp;Import contacts…</source>
        <translation>Kontakte &amp;importieren …</translation>
    </message>
    <message>
        <source>&amp;Export contacts…</source>
        <translation>Kontakte &amp;exportieren …</translation>
    </message>
    <message>
        <source>Load &amp;demo data…</source>
        <translation>&amp;Demodaten laden …</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen …</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Find contact</source>
        <translation>Kontakt &amp;suchen</translation>
    </message>
    <message>
        <source>&amp;New contact…</source>
        <translation>&amp;Neuer Kontakt …</translation>
    </message>
    <message>
        <source>New &amp;organization…</source>
        <translation>Neue &amp;Organisation …</translation>
    </message>
    <message>
        <source>&amp;Edit contact…</source>
        <translation>Kontakt &amp;bearbeiten …</translation>
    </message>
    <message>
        <source>&amp;Delete contact…</source>
        <translation>Kontakt &amp;löschen …</translation>
    </message>
    <message>
        <source>Add &amp;note…</source>
        <translation>&amp;Notiz hinzufügen …</translation>
    </message>
    <message>
        <source>&amp;Calls</source>
        <translation>&amp;Anrufe</translation>
    </message>
    <message>
        <source>&amp;Simulate incoming call…</source>
        <translation>Eingehenden Anruf &amp;simulieren …</translation>
    </message>
    <message>
        <source>Play the &amp;demo calls</source>
        <translation>&amp;Demo-Anrufe abspielen</translation>
    </message>
    <message>
        <source>&amp;Close all call pop-ups</source>
        <translation>Alle Anruf-Pop-ups &amp;schließen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About desktop_crm</source>
        <translation>Ü&amp;ber desktop_crm</translation>
    </message>
    <message>
        <source>About desktop_crm</source>
        <translation>Über desktop_crm</translation>
    </message>
    <message>
        <source>desktop_crm: contacts, caller identification and contact history.

Database: {url}</source>
        <translation>desktop_crm: Kontakte, Anruferkennung und Kontaktverlauf.

Datenbank: {url}</translation>
    </message>
    <message>
        <source>No contact matches “{text}”.</source>
        <translation>Kein Kontakt passt zu „{text}“.</translation>
    </message>
    <message>
        <source>No contacts yet. Load demo data (File menu) or import contacts with “desktop-crm import”.</source>
        <translation>Noch keine Kontakte. Laden Sie Demodaten (Menü Datei) oder importieren Sie Kontakte mit „desktop-crm import“.</translation>
    </message>
    <message>
        <source>{shown} of {total} contacts shown</source>
        <translation>{shown} von {total} Kontakten angezeigt</translation>
    </message>
    <message>
        <source>(first {limit} matches; refine the search)</source>
        <translation>(die ersten {limit} Treffer; bitte Suche verfeinern)</translation>
    </message>
    <message>
        <source>Loading demo data…</source>
        <translation>Demodaten werden geladen …</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Demo data</source>
        <translation>Demodaten</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen …</translation>
    </message>
    <message>
        <source>The demo data is already in this database; nothing was added.</source>
        <translation>Die Demodaten sind bereits in dieser Datenbank; nichts wurde hinzugefügt.</translation>
    </message>
    <message>
        <source>Demo data loaded: {contacts} contacts, {entries} history entries.</source>
        <translation>Demodaten geladen: {contacts} Kontakte, {entries} Verlaufseinträge.</translation>
    </message>
    <message>
        <source>Loading the demo data was cancelled.</source>
        <translation>Das Laden der Demodaten wurde abgebrochen.</translation>
    </message>
    <message>
        <source>The demo data could not be loaded.</source>
        <translation>Die Demodaten konnten nicht geladen werden.</translation>
    </message>
    <message numerus="yes">
        <source>%n missed call(s)</source>
        <translation>
            <numerusform>%n verpasster Anruf</numerusform>
            <numerusform>%n verpasste Anrufe</numerusform>
        </translation>
    </message>
    <message>
        <source>Ticket {number} created.</source>
        <translation>Ticket {number} angelegt.</translation>
    </message>
    <message>
        <source>Add {number} to which contact?</source>
        <translation>{number} zu welchem Kontakt hinzufügen?</translation>
    </message>
    <message>
        <source>{number} added to the contact.</source>
        <translation>{number} wurde dem Kontakt hinzugefügt.</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>Gespeichert.</translation>
    </message>
    <message>
        <source>Deleted.</source>
        <translation>Gelöscht.</translation>
    </message>
    <message>
        <source>Select a contact first.</source>
        <translation>Wählen Sie zuerst einen Kontakt.</translation>
    </message>
    <message>
        <source>Settings saved to {path}.</source>
        <translation>Einstellungen in {path} gespeichert.</translation>
    </message>
    <message>
        <source>Import contacts</source>
        <translation>Kontakte importieren</translation>
    </message>
    <message>
        <source>Contact files (*.vcf *.csv *.json *.txt);;All files (*)</source>
        <translation>Kontaktdateien (*.vcf *.csv *.json *.txt);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Export contacts</source>
        <translation>Kontakte exportieren</translation>
    </message>
    <message>
        <source>CSV (*.csv);;vCard (*.vcf);;JSON (*.json)</source>
        <translation>CSV (*.csv);;vCard (*.vcf);;JSON (*.json)</translation>
    </message>
    <message>
        <source>Export cancelled; no file written.</source>
        <translation>Export abgebrochen; keine Datei geschrieben.</translation>
    </message>
    <message>
        <source>{count} contacts exported to {file}.</source>
        <translation>{count} Kontakte nach {file} exportiert.</translation>
    </message>
    <message>
        <source>Import or export failed.</source>
        <translation>Import oder Export fehlgeschlagen.</translation>
    </message>
    <message>
        <source>Not saved.</source>
        <translation>Nicht gespeichert.</translation>
    </message>
</context>
<context>
    <name>MemberListModel</name>
    <message>
        <source>{name} (inactive)</source>
        <translation>{name} (deaktiviert)</translation>
    </message>
</context>
<context>
    <name>MyTickets</name>
    <message>
        <source>My tickets</source>
        <translation>Meine Tickets</translation>
    </message>
    <message>
        <source>Present (new tickets may be assigned to me)</source>
        <translation>Anwesend (mir dürfen neue Tickets zugewiesen werden)</translation>
    </message>
    <message>
        <source>You are present.</source>
        <translation>Sie sind anwesend.</translation>
    </message>
    <message>
        <source>You are away.</source>
        <translation>Sie sind abwesend.</translation>
    </message>
    <message>
        <source>My tickets ({count})</source>
        <translation>Meine Tickets ({count})</translation>
    </message>
</context>
<context>
    <name>NewTicketDialog</name>
    <message>
        <source>New ticket</source>
        <translation>Neues Ticket</translation>
    </message>
    <message>
        <source>For: {who}</source>
        <translation>Für: {who}</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Betreff:</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>Beschreibung:</translation>
    </message>
    <message>
        <source>Create ticket</source>
        <translation>Ticket anlegen</translation>
    </message>
</context>
<context>
    <name>OrganizationDialog</name>
    <message>
        <source>New organization</source>
        <translation>Neue Organisation</translation>
    </message>
    <message>
        <source>Organization</source>
        <translation>Organisation</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Customer no.:</source>
        <translation>Kundennr.:</translation>
    </message>
    <message>
        <source>Phone:</source>
        <translation>Telefon:</translation>
    </message>
    <message>
        <source>Add number</source>
        <translation>Nummer hinzufügen</translation>
    </message>
    <message>
        <source>E-mail:</source>
        <translation>E-Mail:</translation>
    </message>
    <message>
        <source>Add address</source>
        <translation>Adresse hinzufügen</translation>
    </message>
    <message>
        <source>comma-separated, e.g. mueller-anlagenbau.de</source>
        <translation>durch Kommas getrennt, z. B. mueller-anlagenbau.de</translation>
    </message>
    <message>
        <source>Mail domains:</source>
        <translation>Mail-Domains:</translation>
    </message>
    <message>
        <source>Street:</source>
        <translation>Straße:</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>PLZ</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ort</translation>
    </message>
    <message>
        <source>Country (DE)</source>
        <translation>Land (DE)</translation>
    </message>
    <message>
        <source>Place:</source>
        <translation>Ort:</translation>
    </message>
    <message>
        <source>Tags:</source>
        <translation>Schlagwörter:</translation>
    </message>
    <message>
        <source>Notes:</source>
        <translation>Notizen:</translation>
    </message>
    <message>
        <source>Delete the organization {name}?</source>
        <translation>Die Organisation {name} löschen?</translation>
    </message>
    <message>
        <source>Its phone numbers, e-mail addresses and mail domains are deleted with it. Its {count} contact(s) stay, without an organization; the history stays too.</source>
        <translation>Ihre Telefonnummern, E-Mail-Adressen und Mail-Domains werden mitgelöscht. Ihre {count} Kontakt(e) bleiben, ohne Organisation; der Verlauf bleibt ebenfalls.</translation>
    </message>
</context>
<context>
    <name>OrganizationTableModel</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Customer no.</source>
        <translation>Kundennr.</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Telefon</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ort</translation>
    </message>
</context>
<context>
    <name>OrganizationsPage</name>
    <message>
        <source>Search organization name or customer no.</source>
        <translation>Suche nach Organisation oder Kundennr.</translation>
    </message>
    <message>
        <source>Select an organization.</source>
        <translation>Wählen Sie eine Organisation.</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>Bearbeiten …</translation>
    </message>
    <message>
        <source>History</source>
        <translation>Verlauf</translation>
    </message>
    <message>
        <source>{shown} of {total} organizations shown</source>
        <translation>{shown} von {total} Organisationen angezeigt</translation>
    </message>
    <message>
        <source>(no name)</source>
        <translation>(ohne Namen)</translation>
    </message>
    <message>
        <source>Customer no.</source>
        <translation>Kundennr.</translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation>E-Mail</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Anschrift</translation>
    </message>
    <message>
        <source>People</source>
        <translation>Personen</translation>
    </message>
    <message>
        <source>Open tickets</source>
        <translation>Offene Tickets</translation>
    </message>
</context>
<context>
    <name>QueueDialog</name>
    <message>
        <source>Queues</source>
        <translation>Warteschlangen</translation>
    </message>
    <message>
        <source>New queue</source>
        <translation>Neue Warteschlange</translation>
    </message>
    <message>
        <source>Queues:</source>
        <translation>Warteschlangen:</translation>
    </message>
    <message>
        <source>e.g. support@example.com</source>
        <translation>z. B. support@example.com</translation>
    </message>
    <message>
        <source>Public holidays of a country and, optionally, a state or canton: DE, DE-BY, AT, CH-ZH</source>
        <translation>Feiertage eines Landes und optional eines Bundeslandes oder Kantons: DE, DE-BY, AT, CH-ZH</translation>
    </message>
    <message>
        <source>Weekdays and local opening times, e.g. mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00</source>
        <translation>Wochentage und örtliche Öffnungszeiten, z. B. mo-fr 08:00-12:00,13:00-17:00; sa 09:00-12:00</translation>
    </message>
    <message>
        <source>First response</source>
        <translation>Erste Antwort</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>Lösung</translation>
    </message>
    <message>
        <source>no target</source>
        <translation>kein Ziel</translation>
    </message>
    <message>
        <source>Business time, e.g. 1h, 4h 30m, 2d; empty: no target.</source>
        <translation>Geschäftszeit, z. B. 1h, 4h 30m, 2d; leer: kein Ziel.</translation>
    </message>
    <message>
        <source>A ticket is at risk once this share of its target time is used up.</source>
        <translation>Ein Ticket gilt als gefährdet, sobald dieser Anteil seiner Zielzeit verbraucht ist.</translation>
    </message>
    <message>
        <source>Manual</source>
        <translation>Manuell</translation>
    </message>
    <message>
        <source>Round robin</source>
        <translation>Reihum</translation>
    </message>
    <message>
        <source>Least busy</source>
        <translation>Geringste Auslastung</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>Beschreibung:</translation>
    </message>
    <message>
        <source>Support mailbox:</source>
        <translation>Support-Postfach:</translation>
    </message>
    <message>
        <source>Time zone:</source>
        <translation>Zeitzone:</translation>
    </message>
    <message>
        <source>Holidays:</source>
        <translation>Feiertage:</translation>
    </message>
    <message>
        <source>Business hours:</source>
        <translation>Geschäftszeiten:</translation>
    </message>
    <message>
        <source>SLA targets:</source>
        <translation>SLA-Ziele:</translation>
    </message>
    <message>
        <source>At risk after:</source>
        <translation>Gefährdet ab:</translation>
    </message>
    <message>
        <source>Assignment:</source>
        <translation>Zuweisung:</translation>
    </message>
    <message>
        <source>Members:</source>
        <translation>Mitglieder:</translation>
    </message>
    <message>
        <source>Supervisor:</source>
        <translation>Teamleitung:</translation>
    </message>
    <message>
        <source>(nobody)</source>
        <translation>(niemand)</translation>
    </message>
    <message>
        <source>{name} (inactive)</source>
        <translation>{name} (deaktiviert)</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>Ungespeicherte Änderungen</translation>
    </message>
    <message>
        <source>The changes to this queue are not saved. Discard them?</source>
        <translation>Die Änderungen an dieser Warteschlange sind nicht gespeichert. Verwerfen?</translation>
    </message>
    <message>
        <source>New queue: enter a name and its settings, then save.</source>
        <translation>Neue Warteschlange: Namen und Einstellungen eingeben, dann speichern.</translation>
    </message>
    <message>
        <source>Not understood: {error}</source>
        <translation>Nicht verstanden: {error}</translation>
    </message>
    <message>
        <source>Open {hours} hours a week.</source>
        <translation>Geöffnet {hours} Stunden pro Woche.</translation>
    </message>
    <message>
        <source>A queue needs a name.</source>
        <translation>Eine Warteschlange braucht einen Namen.</translation>
    </message>
    <message>
        <source>{address} is not an e-mail address.</source>
        <translation>{address} ist keine E-Mail-Adresse.</translation>
    </message>
    <message>
        <source>Not saved: {error}</source>
        <translation>Nicht gespeichert: {error}</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>Gespeichert.</translation>
    </message>
    <message>
        <source>Someone else changed this queue since you opened it; nothing was saved. Save again to replace their settings with yours, or pick the queue in the list to see theirs.</source>
        <translation>Jemand anderes hat diese Warteschlange geändert, seit Sie sie geöffnet haben; nichts wurde gespeichert. Speichern Sie erneut, um die Einstellungen durch Ihre zu ersetzen, oder wählen Sie die Warteschlange in der Liste, um die anderen zu sehen.</translation>
    </message>
</context>
<context>
    <name>QueueFiguresModel</name>
    <message>
        <source>Queue</source>
        <translation>Warteschlange</translation>
    </message>
    <message>
        <source>New</source>
        <translation>Neu</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Offen</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Wartend</translation>
    </message>
    <message>
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
    <message>
        <source>At risk</source>
        <translation>Gefährdet</translation>
    </message>
    <message>
        <source>Breached</source>
        <translation>Verletzt</translation>
    </message>
    <message>
        <source>Oldest waiting</source>
        <translation>Am längsten wartend</translation>
    </message>
    <message>
        <source>(no queue)</source>
        <translation>(keine Warteschlange)</translation>
    </message>
    <message>
        <source>Click to list these tickets</source>
        <translation>Klicken, um diese Tickets aufzulisten</translation>
    </message>
</context>
<context>
    <name>RecordForm</name>
    <message>
        <source>e.g. 089 2020447-25</source>
        <translation>z. B. 089 2020447-25</translation>
    </message>
    <message>
        <source>Remove this number</source>
        <translation>Diese Nummer entfernen</translation>
    </message>
    <message>
        <source>Read like this, but no such number is known to exist.</source>
        <translation>So gelesen, aber eine solche Nummer ist nicht bekannt.</translation>
    </message>
    <message>
        <source>not a phone number</source>
        <translation>keine Telefonnummer</translation>
    </message>
    <message>
        <source>Stored as typed; caller identification cannot use it.</source>
        <translation>Wird wie eingegeben gespeichert; die Anruferkennung kann sie nicht nutzen.</translation>
    </message>
    <message>
        <source>name@example.de</source>
        <translation>name@beispiel.de</translation>
    </message>
    <message>
        <source>Remove this address</source>
        <translation>Diese Adresse entfernen</translation>
    </message>
    <message>
        <source>not an e-mail address</source>
        <translation>keine E-Mail-Adresse</translation>
    </message>
    <message>
        <source>Salutation</source>
        <translation>Anrede</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>First name</source>
        <translation>Vorname</translation>
    </message>
    <message>
        <source>Last name</source>
        <translation>Nachname</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Customer no.</source>
        <translation>Kundennr.</translation>
    </message>
    <message>
        <source>Organization</source>
        <translation>Organisation</translation>
    </message>
    <message>
        <source>Position</source>
        <translation>Position</translation>
    </message>
    <message>
        <source>Street</source>
        <translation>Straße</translation>
    </message>
    <message>
        <source>Postal code</source>
        <translation>PLZ</translation>
    </message>
    <message>
        <source>City</source>
        <translation>Ort</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Land</translation>
    </message>
    <message>
        <source>Phone numbers</source>
        <translation>Telefonnummern</translation>
    </message>
    <message>
        <source>E-mail addresses</source>
        <translation>E-Mail-Adressen</translation>
    </message>
    <message>
        <source>Mail domains</source>
        <translation>Mail-Domains</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>Schlagwörter</translation>
    </message>
    <message>
        <source>Notes</source>
        <translation>Notizen</translation>
    </message>
    <message>
        <source>same name</source>
        <translation>gleicher Name</translation>
    </message>
    <message>
        <source>same number</source>
        <translation>gleiche Nummer</translation>
    </message>
    <message>
        <source>same e-mail address</source>
        <translation>gleiche E-Mail-Adresse</translation>
    </message>
    <message>
        <source>same address</source>
        <translation>gleiche Anschrift</translation>
    </message>
    <message>
        <source>same customer number</source>
        <translation>gleiche Kundennummer</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>Database</source>
        <translation>Datenbank</translation>
    </message>
    <message>
        <source>Dialling rules</source>
        <translation>Wählregeln</translation>
    </message>
    <message>
        <source>SIP account</source>
        <translation>SIP-Konto</translation>
    </message>
    <message>
        <source>IMAP accounts</source>
        <translation>IMAP-Konten</translation>
    </message>
    <message>
        <source>Pop-up</source>
        <translation>Pop-up</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>Changes to the database, the telephony and the language apply at the next start.</source>
        <translation>Änderungen an Datenbank, Telefonie und Sprache gelten ab dem nächsten Start.</translation>
    </message>
    <message>
        <source>Passwords cannot be stored: {problem} Until then, enter the password with the command `desktop-crm secret set NAME` on a system that has one, or leave it empty.</source>
        <translation>Passwörter können nicht gespeichert werden: {problem} Bis dahin das Passwort mit dem Befehl `desktop-crm secret set NAME` auf einem System mit Schlüsselbund hinterlegen oder leer lassen.</translation>
    </message>
    <message>
        <source>no secure keyring on this system</source>
        <translation>kein sicherer Schlüsselbund auf diesem System</translation>
    </message>
    <message>
        <source>unchanged (stored in the system keyring)</source>
        <translation>unverändert (im Schlüsselbund des Systems gespeichert)</translation>
    </message>
    <message>
        <source>empty: a file in your user folder; or postgresql://user@server/crm</source>
        <translation>leer: eine Datei in Ihrem Benutzerordner; oder postgresql://benutzer@server/crm</translation>
    </message>
    <message>
        <source>Database URL:</source>
        <translation>Datenbank-URL:</translation>
    </message>
    <message>
        <source>e.g. crm-db (PostgreSQL only)</source>
        <translation>z. B. crm-db (nur PostgreSQL)</translation>
    </message>
    <message>
        <source>Keyring entry:</source>
        <translation>Schlüsselbund-Eintrag:</translation>
    </message>
    <message>
        <source>Password:</source>
        <translation>Passwort:</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Verbindung testen</translation>
    </message>
    <message>
        <source>Home country:</source>
        <translation>Heimatland:</translation>
    </message>
    <message>
        <source>e.g. 89 for Munich</source>
        <translation>z. B. 89 für München</translation>
    </message>
    <message>
        <source>Home area code:</source>
        <translation>Eigene Vorwahl:</translation>
    </message>
    <message>
        <source>e.g. 0, if the PBX adds it</source>
        <translation>z. B. 0, wenn die Anlage sie voranstellt</translation>
    </message>
    <message>
        <source>Outside-line prefix:</source>
        <translation>Amtsholung:</translation>
    </message>
    <message>
        <source>Internal extensions (digits):</source>
        <translation>Interne Durchwahlen (Stellen):</translation>
    </message>
    <message>
        <source>Digits compared at least:</source>
        <translation>Mindestens verglichene Ziffern:</translation>
    </message>
    <message>
        <source>Try a caller ID:</source>
        <translation>Rufnummer ausprobieren:</translation>
    </message>
    <message>
        <source>is read as {number}</source>
        <translation>wird gelesen als {number}</translation>
    </message>
    <message>
        <source>Listen for calls on this account</source>
        <translation>Auf diesem Konto auf Anrufe hören</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Mode:</source>
        <translation>Betriebsart:</translation>
    </message>
    <message>
        <source>Listen on (address:port):</source>
        <translation>Lauschen auf (Adresse:Port):</translation>
    </message>
    <message>
        <source>Transport:</source>
        <translation>Transport:</translation>
    </message>
    <message>
        <source>Registrar:</source>
        <translation>Registrar:</translation>
    </message>
    <message>
        <source>User:</source>
        <translation>Benutzer:</translation>
    </message>
    <message>
        <source>Authentication user:</source>
        <translation>Anmeldename:</translation>
    </message>
    <message>
        <source>Registration expires (s):</source>
        <translation>Registrierung gilt (s):</translation>
    </message>
    <message>
        <source>This version listens for calls a phone system forwards to it; registering at a registrar comes with the SIP register mode.</source>
        <translation>Diese Version empfängt Anrufe, die eine Telefonanlage weiterleitet; die Anmeldung an einem Registrar kommt mit dem SIP-Register-Modus.</translation>
    </message>
    <message>
        <source>Mailboxes are set up here once the mail watcher is part of this version: mails from known customers then land in their history.</source>
        <translation>Postfächer werden hier eingerichtet, sobald der Mail-Empfang Teil dieser Version ist: Mails bekannter Kunden landen dann in ihrem Verlauf.</translation>
    </message>
    <message>
        <source>Caller pop-up</source>
        <translation>Anrufer-Pop-up</translation>
    </message>
    <message>
        <source>bottom right</source>
        <translation>unten rechts</translation>
    </message>
    <message>
        <source>top right</source>
        <translation>oben rechts</translation>
    </message>
    <message>
        <source>bottom left</source>
        <translation>unten links</translation>
    </message>
    <message>
        <source>top left</source>
        <translation>oben links</translation>
    </message>
    <message>
        <source>Screen corner:</source>
        <translation>Bildschirmecke:</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>Close a missed call after:</source>
        <translation>Verpassten Anruf schließen nach:</translation>
    </message>
    <message>
        <source>Always on top of other windows</source>
        <translation>Immer über anderen Fenstern</translation>
    </message>
    <message>
        <source>Calls shown at once:</source>
        <translation>Gleichzeitig angezeigte Anrufe:</translation>
    </message>
    <message>
        <source>as the system</source>
        <translation>wie das System</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>Sprache:</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde …</translation>
    </message>
    <message>
        <source>Connected; the database is ready.</source>
        <translation>Verbunden; die Datenbank ist bereit.</translation>
    </message>
    <message>
        <source>Connected; the database is empty and is set up at the start.</source>
        <translation>Verbunden; die Datenbank ist leer und wird beim Start eingerichtet.</translation>
    </message>
    <message>
        <source>Connected, but the database needs another schema version (desktop-crm db upgrade).</source>
        <translation>Verbunden, aber die Datenbank braucht eine andere Schemaversion (desktop-crm db upgrade).</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>Fehlgeschlagen: {reason}</translation>
    </message>
</context>
<context>
    <name>SimulateCallDialog</name>
    <message>
        <source>Simulate incoming call</source>
        <translation>Eingehenden Anruf simulieren</translation>
    </message>
    <message>
        <source>The call goes through the same listener, caller identification and pop-up as a call from the phone system, and is logged in the history.</source>
        <translation>Der Anruf durchläuft denselben Listener, dieselbe Anruferkennung und dasselbe Pop-up wie ein Anruf der Telefonanlage und wird im Verlauf protokolliert.</translation>
    </message>
    <message>
        <source>empty: number withheld</source>
        <translation>leer: Rufnummer unterdrückt</translation>
    </message>
    <message>
        <source>Caller&apos;s number:</source>
        <translation>Nummer des Anrufers:</translation>
    </message>
    <message>
        <source>as the phone system sends it (optional)</source>
        <translation>wie die Telefonanlage ihn sendet (optional)</translation>
    </message>
    <message>
        <source>Caller ID name:</source>
        <translation>Übermittelter Name:</translation>
    </message>
    <message>
        <source>answered</source>
        <translation>angenommen</translation>
    </message>
    <message>
        <source>missed</source>
        <translation>verpasst</translation>
    </message>
    <message>
        <source>answered elsewhere</source>
        <translation>anderswo angenommen</translation>
    </message>
    <message>
        <source>Outcome:</source>
        <translation>Ausgang:</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Rings for:</source>
        <translation>Klingelt:</translation>
    </message>
    <message>
        <source>Ring</source>
        <translation>Klingeln lassen</translation>
    </message>
    <message>
        <source>Play demo scenario</source>
        <translation>Demo-Szenario abspielen</translation>
    </message>
</context>
<context>
    <name>TicketBoard</name>
    <message>
        <source>All priorities</source>
        <translation>Alle Prioritäten</translation>
    </message>
    <message>
        <source>All organizations</source>
        <translation>Alle Organisationen</translation>
    </message>
    <message>
        <source>any age</source>
        <translation>beliebiges Alter</translation>
    </message>
    <message>
        <source>older than 1 hour</source>
        <translation>älter als 1 Stunde</translation>
    </message>
    <message>
        <source>older than 4 hours</source>
        <translation>älter als 4 Stunden</translation>
    </message>
    <message>
        <source>older than 1 day</source>
        <translation>älter als 1 Tag</translation>
    </message>
    <message>
        <source>older than 3 days</source>
        <translation>älter als 3 Tage</translation>
    </message>
    <message>
        <source>older than 1 week</source>
        <translation>älter als 1 Woche</translation>
    </message>
    <message>
        <source>All open tickets</source>
        <translation>Alle offenen Tickets</translation>
    </message>
    <message>
        <source>Assign selected</source>
        <translation>Auswahl zuweisen</translation>
    </message>
    <message>
        <source>Queues…</source>
        <translation>Warteschlangen …</translation>
    </message>
    <message>
        <source>Priority:</source>
        <translation>Priorität:</translation>
    </message>
    <message>
        <source>Organization:</source>
        <translation>Organisation:</translation>
    </message>
    <message>
        <source>Age:</source>
        <translation>Alter:</translation>
    </message>
    <message>
        <source>Assign to:</source>
        <translation>Zuweisen an:</translation>
    </message>
    <message>
        <source>New</source>
        <translation>Neu</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Offen</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Wartend</translation>
    </message>
    <message>
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
    <message>
        <source>At risk</source>
        <translation>Gefährdet</translation>
    </message>
    <message>
        <source>Breached</source>
        <translation>Verletzt</translation>
    </message>
    <message>
        <source>Oldest waiting</source>
        <translation>Am längsten wartend</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>Zugewiesen</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>In Arbeit</translation>
    </message>
    <message>
        <source>Resolved today</source>
        <translation>Heute gelöst</translation>
    </message>
    <message>
        <source>Updated {time}; {count} tickets listed</source>
        <translation>Aktualisiert {time}; {count} Tickets aufgelistet</translation>
    </message>
    <message>
        <source>{count} escalations</source>
        <translation>{count} Eskalationen</translation>
    </message>
    <message>
        <source>{done} tickets assigned</source>
        <translation>{done} Tickets zugewiesen</translation>
    </message>
    <message>
        <source>{count} changed by someone else meanwhile; not changed</source>
        <translation>{count} inzwischen von jemand anderem geändert; nicht geändert</translation>
    </message>
</context>
<context>
    <name>TicketDialog</name>
    <message>
        <source>Ticket</source>
        <translation>Ticket</translation>
    </message>
    <message>
        <source>Reopen</source>
        <translation>Wieder öffnen</translation>
    </message>
    <message>
        <source>Subject:</source>
        <translation>Betreff:</translation>
    </message>
    <message>
        <source>Customer:</source>
        <translation>Kunde:</translation>
    </message>
    <message>
        <source>Queue:</source>
        <translation>Warteschlange:</translation>
    </message>
    <message>
        <source>Priority:</source>
        <translation>Priorität:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Assignee:</source>
        <translation>Bearbeiter/in:</translation>
    </message>
    <message>
        <source>SLA:</source>
        <translation>SLA:</translation>
    </message>
    <message>
        <source>Description:</source>
        <translation>Beschreibung:</translation>
    </message>
    <message>
        <source>Changes:</source>
        <translation>Änderungen:</translation>
    </message>
    <message>
        <source>Someone else changed this ticket since you opened it; nothing was overwritten. The current state is shown now.</source>
        <translation>Jemand anderes hat dieses Ticket geändert, seit Sie es geöffnet haben; nichts wurde überschrieben. Jetzt wird der aktuelle Stand angezeigt.</translation>
    </message>
    <message>
        <source>(no queue)</source>
        <translation>(keine Warteschlange)</translation>
    </message>
    <message>
        <source>(nobody)</source>
        <translation>(niemand)</translation>
    </message>
    <message>
        <source>Nothing changed.</source>
        <translation>Nichts geändert.</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>Gespeichert.</translation>
    </message>
    <message>
        <source>Reopened.</source>
        <translation>Wieder geöffnet.</translation>
    </message>
</context>
<context>
    <name>TicketLabels</name>
    <message>
        <source>new</source>
        <translation>neu</translation>
    </message>
    <message>
        <source>open</source>
        <translation>offen</translation>
    </message>
    <message>
        <source>waiting for customer</source>
        <translation>wartet auf Kunden</translation>
    </message>
    <message>
        <source>waiting for third party</source>
        <translation>wartet auf Dritte</translation>
    </message>
    <message>
        <source>resolved</source>
        <translation>gelöst</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>geschlossen</translation>
    </message>
    <message>
        <source>low</source>
        <translation>niedrig</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>normal</translation>
    </message>
    <message>
        <source>high</source>
        <translation>hoch</translation>
    </message>
    <message>
        <source>urgent</source>
        <translation>dringend</translation>
    </message>
    <message>
        <source>breached</source>
        <translation>verletzt</translation>
    </message>
    <message>
        <source>at risk</source>
        <translation>gefährdet</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>pausiert</translation>
    </message>
    <message>
        <source>in time</source>
        <translation>im Plan</translation>
    </message>
    <message>
        <source>done</source>
        <translation>erledigt</translation>
    </message>
    <message>
        <source>no SLA</source>
        <translation>kein SLA</translation>
    </message>
</context>
<context>
    <name>TicketListModel</name>
    <message>
        <source>Number</source>
        <translation>Nummer</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Betreff</translation>
    </message>
    <message>
        <source>Customer</source>
        <translation>Kunde</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Warteschlange</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>SLA</source>
        <translation>SLA</translation>
    </message>
    <message>
        <source>Due</source>
        <translation>Fällig</translation>
    </message>
    <message>
        <source>Assignee</source>
        <translation>Bearbeiter/in</translation>
    </message>
</context>
<context>
    <name>TicketsPage</name>
    <message>
        <source>Loading tickets…</source>
        <translation>Tickets werden geladen …</translation>
    </message>
    <message>
        <source>Tickets cannot be shown: {error}</source>
        <translation>Tickets können nicht angezeigt werden: {error}</translation>
    </message>
    <message>
        <source>My tickets</source>
        <translation>Meine Tickets</translation>
    </message>
    <message>
        <source>Board</source>
        <translation>Übersicht</translation>
    </message>
</context>
<context>
    <name>Transfers</name>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Importing {file} ({number} of {count})…</source>
        <translation>{file} wird importiert ({number} von {count}) …</translation>
    </message>
    <message>
        <source>Importing contacts…</source>
        <translation>Kontakte werden importiert …</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>Exporting contacts…</source>
        <translation>Kontakte werden exportiert …</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Export</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>starting</source>
        <translation>startet</translation>
    </message>
    <message>
        <source>listening</source>
        <translation>empfangsbereit</translation>
    </message>
    <message>
        <source>registering</source>
        <translation>meldet sich an</translation>
    </message>
    <message>
        <source>registered</source>
        <translation>angemeldet</translation>
    </message>
    <message>
        <source>not working</source>
        <translation>gestört</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>angehalten</translation>
    </message>
    <message>
        <source>wrong password</source>
        <translation>falsches Passwort</translation>
    </message>
    <message>
        <source>unreachable</source>
        <translation>nicht erreichbar</translation>
    </message>
    <message>
        <source>rejected by the server</source>
        <translation>vom Server abgewiesen</translation>
    </message>
    <message>
        <source>no password in the keyring</source>
        <translation>kein Passwort im Schlüsselbund</translation>
    </message>
    <message>
        <source>not available on this computer</source>
        <translation>auf diesem Computer nicht verfügbar</translation>
    </message>
    <message>
        <source>next attempt in {seconds} s</source>
        <translation>nächster Versuch in {seconds} s</translation>
    </message>
</context>
<context>
    <name>UnassignedMailModel</name>
    <message>
        <source>(no subject)</source>
        <translation>(kein Betreff)</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Von</translation>
    </message>
    <message>
        <source>Subject</source>
        <translation>Betreff</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>Datum</translation>
    </message>
    <message>
        <source>Mailbox</source>
        <translation>Postfach</translation>
    </message>
</context>
<context>
    <name>_RecordDialog</name>
    <message>
        <source>Delete…</source>
        <translation>Löschen …</translation>
    </message>
    <message>
        <source>Correct the e-mail address first.</source>
        <translation>Bitte zuerst die E-Mail-Adresse korrigieren.</translation>
    </message>
    <message>
        <source>Possibly already in the CRM: {links}</source>
        <translation>Möglicherweise schon im CRM: {links}</translation>
    </message>
    <message>
        <source>This record was changed by someone else. What you typed is kept; when you save, both versions are shown side by side.</source>
        <translation>Dieser Datensatz wurde von jemand anderem geändert. Ihre Eingaben bleiben erhalten; beim Speichern werden beide Fassungen nebeneinander gezeigt.</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Löschen</translation>
    </message>
</context>
</TS>
