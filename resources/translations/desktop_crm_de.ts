<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>App</name>
    <message>
        <source>Something went wrong ({error}); details are in the log.</source>
        <translation>Etwas ist schiefgegangen ({error}); Einzelheiten stehen im Protokoll.</translation>
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
        <translation>Wählen Sie einen Kontakt, um Stammdaten und Verlauf zu sehen.</translation>
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
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Search name, number, e-mail or customer no.</source>
        <translation>Suche nach Name, Nummer, E-Mail oder Kundennr.</translation>
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
        <source>Load &amp;demo data…</source>
        <translation>&amp;Demodaten laden …</translation>
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
</context>
</TS>
