"""German policy texts (region DE): the same clauses and numbers as the English ones, under German law."""

from __future__ import annotations

from demo.terms import Terms

RETURNS = """# Rückgabe und Erstattung (Deutschland)

Diese Regelung gilt für Bestellungen bei {t.tenant} mit Lieferung nach Deutschland durch {kunden}. Sie
ergänzt Ihre gesetzlichen Rechte und schränkt sie nicht ein.

## 1. Rückgabefrist

1.1 Sie können Artikel innerhalb von **{t.return_days} Tagen** nach Lieferung zurückgeben, sofern sie {zustand}
sind.
1.2 {gesetzlich}

## 2. Zustand der Rücksendung

2.1 Senden Sie jeden Artikel mit allem Zubehör, Kabeln, Anleitungen und Zugaben zurück.
2.2 Sie dürfen einen Artikel prüfen wie im Laden. Bei darüber hinausgehenden Gebrauchsspuren (Kratzer,
fehlende Teile, verbrauchte Verbrauchsmaterialien) können wir den Wertverlust von der Erstattung abziehen.
{gebuehr}
## 3. Ausgeschlossene Artikel

- Software, Videospiele und Download-Codes nach Öffnen des Siegels oder Freirubbeln des Codes.
- In-Ear-Kopfhörer und andere Hygieneartikel nach Öffnen der Versiegelung.
- Zugeschnittene oder auf Bestellung gefertigte Waren sowie geöffnete Gefahrstoffe (Sprays, Klebstoffe).

## 4. So senden Sie einen Artikel zurück

1. Melden Sie sich an, öffnen Sie **Bestellungen**, wählen Sie den Artikel und dann **Rücksendung**.
2. Drucken Sie das Etikett oder zeigen Sie den QR-Code in einer Filiale. {versand}
3. Verpacken Sie den Artikel sicher. Lithium-Akkus nur in der Originalverpackung versenden.
4. Geben Sie das Paket innerhalb von 7 Tagen nach Anmeldung der Rücksendung ab.

## 5. Erstattung

5.1 Wir erstatten innerhalb von **{t.refund_days} Tagen** nach Eingang der Rücksendung über das ursprüngliche
Zahlungsmittel.
5.2 Bei Rückgabe der gesamten Bestellung erstatten wir auch die Standardversandkosten ({t.standard_fee} €).
5.3 Expresszuschläge erstatten wir nur, wenn der Artikel defekt war.

## 6. Kontakt

Schreiben Sie an {t.support_email}. Defekt oder beschädigt gelieferte Artikel behandeln wir nach unseren
Garantiebedingungen.
"""


WARRANTY = """# Garantie (Deutschland)

## 1. Ihre gesetzlichen Rechte

{gesetzlich}

## 2. Unsere Herstellergarantie

2.1 Zusätzlich zu Ihren gesetzlichen Rechten gewährt {t.tenant} auf alle Produkte eine **Garantie von
{t.warranty_months} Monaten** ab Lieferdatum.{bonus}
2.2 Akkus sind für {t.warranty_months} Monate oder 500 Ladezyklen abgedeckt, je nachdem, was zuerst eintritt,
und behalten in dieser Zeit mindestens 70 % ihrer Nennkapazität.

## 3. Was die Garantie abdeckt

Material- und Verarbeitungsfehler, die bei bestimmungsgemäßem Gebrauch auftreten. Wir entscheiden, ob wir
reparieren oder ersetzen; ist beides nicht möglich, erstatten wir den Kaufpreis.

## 4. Was die Garantie nicht abdeckt

- Verschleißteile wie Kohlebürsten, Sägeblätter, Trennscheiben, Bohrer, Filter und Dichtungen.
- Schäden durch Unfall, unsachgemäßen Gebrauch, Überlastung, eindringendes Wasser über die angegebene
  Schutzart hinaus oder nicht freigegebene Akkus und Ladegeräte.
- Produkte, die nicht von uns oder einem autorisierten Servicepartner repariert oder verändert wurden.

## 5. So machen Sie die Garantie geltend

1. Öffnen Sie **Bestellungen** in Ihrem Kundenkonto und wählen Sie **Defekt melden**, oder schreiben Sie an
   {t.support_email}.
2. Beschreiben Sie den Fehler und nennen Sie die Seriennummer (auf dem Typenschild oder im Einstellungsmenü).
3. Sie erhalten innerhalb von 1 Werktag ein vorfrankiertes Etikett. Reparaturen schließen wir innerhalb von
   **15 Werktagen** nach Eingang ab.
4. Ein Ersatzgerät ist für die restliche Garantiezeit, mindestens aber 6 Monate, abgedeckt.

## 6. Reparaturen außerhalb der Garantie

Vor jeder kostenpflichtigen Reparatur erhalten Sie einen Festpreis. Die Diagnosegebühr von 29 € entfällt, wenn
Sie den Kostenvoranschlag annehmen.
"""


SHIPPING = """# Versand und Lieferung (Deutschland)

## 1. Lieferzeiten und Kosten

| Versandart | Lieferzeit | Kosten |
|---|---|---|
| Standard | {t.standard_days} Werktage | {t.standard_fee} €; versandkostenfrei ab {t.free_shipping_over} € |
| Express | nächster Werktag bei Bestellung vor {t.cutoff} | {t.express_fee} € |
| Sperrgut und Paletten | 3–5 Werktage, nach Terminvereinbarung | Angebot an der Kasse |

1.1 Bestellungen, die an einem Werktag vor **{t.cutoff}** eingehen, verlassen unser Lager am selben Tag, wenn alle
Artikel vorrätig sind. Bestellungen mit nicht vorrätigen Artikeln versenden wir komplett, außer Sie wünschen eine
Teillieferung.
1.2 Lieferzeiten gelten ab Versand; für Inseln und abgelegene Gebiete sind sie nicht garantiert.

## 2. Gefahrgut

2.1 Lithium-Akkus (UN 3480 und UN 3481), Sprays und Klebstoffe versenden wir nur auf dem Landweg; Express und
Packstation sind für sie nicht möglich.
2.2 Altersbeschränkte Artikel übergeben wir nur an Erwachsene gegen Vorlage eines Lichtbildausweises.

## 3. Zoll und Steuern

Lieferungen innerhalb Deutschlands sind zollfrei. Alle Preise enthalten 19 % Mehrwertsteuer.

## 4. Sendungsverfolgung und fehlgeschlagene Zustellung

Mit dem Versand erhalten Sie einen Link zur Sendungsverfolgung. Der Zusteller versucht es zweimal; danach liegt
das Paket 7 Tage in der nächsten Filiale, bevor es an uns zurückgeht.

## 5. Transportschäden

Prüfen Sie das Paket bei Lieferung. Melden Sie sichtbare Schäden innerhalb von **48 Stunden** mit Fotos an
{t.support_email}; wir schicken kostenlos Ersatz oder erstatten den Betrag.
"""


PRIVACY = """# Datenschutzerklärung (Deutschland)

Diese Erklärung beschreibt, wie {t.tenant} personenbezogene Daten nach der Datenschutz-Grundverordnung (DSGVO)
und dem Bundesdatenschutzgesetz (BDSG) verarbeitet.

## 1. Verantwortlicher

Verantwortlich ist {t.tenant}. Unsere Datenschutzbeauftragte erreichen Sie unter {t.privacy_email}.

## 2. Welche Daten wir erheben

- Kontodaten: Name, E-Mail-Adresse, Telefonnummer, Liefer- und Rechnungsadressen.
- Bestelldaten: gekaufte Artikel, gezahlte Preise, Zahlungsstatus und Lieferhistorie. Kartennummern speichert
  nur unser Zahlungsdienstleister.
- Nutzungsdaten: aufgerufene Seiten, Suchanfragen und Fragen an den Einkaufsassistenten, Geräte- und Browsertyp.
- Bei Händlerkonten: Firmenname, USt-IdNr. und die Namen der berechtigten Einkäufer.

## 3. Zwecke und Rechtsgrundlagen

3.1 Vertragserfüllung (Art. 6 Abs. 1 lit. b DSGVO): Bestellungen, Lieferungen, Rücksendungen, Garantiefälle.
3.2 Rechtliche Pflichten (Art. 6 Abs. 1 lit. c DSGVO): Rechnungen und Buchungsbelege bewahren wir nach § 147 AO
**10 Jahre** auf.
3.3 Berechtigte Interessen (Art. 6 Abs. 1 lit. f DSGVO): Betrugsprävention, IT-Sicherheit, bessere Suchergebnisse.
3.4 Einwilligung (Art. 6 Abs. 1 lit. a DSGVO): Newsletter und personalisierte Empfehlungen.

## 4. Speicherdauer

Kontodaten speichern wir, solange Ihr Konto besteht, und löschen sie 30 Tage nach der Kündigung. Fragen an den
Einkaufsassistenten und seine Antworten speichern wir 90 Tage, außer wir benötigen sie zur Bearbeitung einer
Beschwerde oder eines Rechtsanspruchs.

## 5. Empfänger

Zahlungsdienstleister, Versanddienstleister, unser Hosting-Anbieter und Servicepartner für Garantiereparaturen,
jeweils mit Auftragsverarbeitungsvertrag nach Art. 28 DSGVO. Übermittlungen in Drittländer erfolgen nur auf
Grundlage eines Angemessenheitsbeschlusses oder von Standardvertragsklauseln.

## 6. Ihre Rechte

Sie haben das Recht auf Auskunft, Berichtigung, Löschung, Einschränkung der Verarbeitung, Datenübertragbarkeit
und Widerspruch (Art. 15–21 DSGVO). Wir antworten innerhalb eines Monats. Eine Einwilligung können Sie jederzeit
mit Wirkung für die Zukunft widerrufen.

## 7. Beschwerden

Wenden Sie sich zuerst an {t.privacy_email}. Sie können sich außerdem an {t.authority} wenden.
"""


def _kunden(t: Terms) -> str:
    return "Geschäftskunden mit Händlerkonto" if t.b2b else "Verbraucherinnen und Verbraucher"


def returns(t: Terms) -> tuple[str, str]:
    zustand = "unbenutzt und originalverpackt" if t.b2b else "vollständig und in wiederverkaufsfähigem Zustand"
    gesetzlich = (
        "Das gesetzliche Widerrufsrecht gilt nur für Verbraucher; dieses Rückgaberecht ist ein freiwilliges "
        "Angebot für Händlerkonten."
        if t.b2b
        else "Ihr gesetzliches Widerrufsrecht von 14 Tagen (§ 355 BGB) bleibt unberührt; unsere Frist schließt es "
        "ein und verlängert es. Eine Begründung ist nicht nötig."
    )
    gebuehr = (
        f"2.3 Für geöffnete Artikel und Artikel ohne Originalverpackung berechnen wir eine Wiedereinlagerungsgebühr "
        f"von **{t.restocking_pct} %** des Nettopreises. Für defekte Artikel fällt nie eine Gebühr an.\n"
        if t.restocking_pct
        else "2.3 Eine Wiedereinlagerungsgebühr erheben wir nicht.\n"
    )
    versand = (
        "Die Rücksendekosten tragen Sie, außer der Artikel ist defekt oder falsch geliefert."
        if t.b2b
        else "Die Rücksendung ist kostenlos: Nutzen Sie das vorfrankierte Etikett aus Ihrem Kundenkonto."
    )
    body = RETURNS.format(
        t=t, gebuehr=gebuehr, gesetzlich=gesetzlich, kunden=_kunden(t), versand=versand, zustand=zustand
    )
    return "Rückgabe und Erstattung – Deutschland", body


def warranty(t: Terms) -> tuple[str, str]:
    gesetzlich = (
        "Für Geschäftskunden beträgt die Verjährungsfrist für Mängelansprüche 12 Monate ab Lieferung, soweit "
        "gesetzlich zulässig; Ansprüche wegen Verletzung von Leben, Körper oder Gesundheit und bei Vorsatz bleiben "
        "unberührt."
        if t.b2b
        else "Es gilt die gesetzliche Mängelhaftung von **2 Jahren** ab Lieferung (§ 438 BGB). Zeigt sich ein Mangel "
        "innerhalb von 12 Monaten, wird vermutet, dass er schon bei Lieferung vorlag (§ 477 BGB)."
    )
    bonus = (
        f" Registrieren Sie das Produkt innerhalb von 30 Tagen nach Lieferung, verlängern wir die Garantie um "
        f"weitere **{t.registration_bonus_months} Monate**."
        if t.registration_bonus_months
        else ""
    )
    body = WARRANTY.format(t=t, bonus=bonus, gesetzlich=gesetzlich)
    return "Garantie – Deutschland", body


def shipping(t: Terms) -> tuple[str, str]:
    body = SHIPPING.format(t=t)
    return "Versand und Lieferung – Deutschland", body


def privacy(t: Terms) -> tuple[str, str]:
    body = PRIVACY.format(t=t)
    return "Datenschutzerklärung – Deutschland", body
