"""Every word the review desk shows, in German (Daniel's language).

Templates and handlers take their text from here; no page spells a status code. Code,
logs and documentation stay English.
"""

from collections.abc import Mapping
from types import MappingProxyType

# The captions' limits, which the desk shows with the fields.
from pix_pipeline.domain.fields import CAPTION_LIMITS as CAPTION_LIMITS
from pix_pipeline.domain.gallery import ChangeKind, GalleryChange
from pix_pipeline.domain.models import (
    DANIEL,
    GalleryStatus,
    GalleryVisibility,
    ImageStatus,
    RoomType,
    ViewType,
)
from pix_pipeline.domain.release import Refusal, ReleaseCheck
from pix_pipeline.domain.review import ErrorKind, FindingBox, JobReview, RedactionView
from pix_pipeline.notify.events import EventKind, NotificationStatus


class T:
    """Fixed texts of the pages, by the place they appear."""

    app_name = "Prüfpult"
    dagster_ui = "Dagster-Oberfläche"
    logout = "Abmelden"
    # login
    login_title = "Anmelden"
    user = "Benutzer"
    password = "Passwort"
    login_button = "Anmelden"
    login_failed = "Benutzer oder Passwort stimmt nicht."
    login_slowed = "Zu viele Fehlversuche. Bitte in {wait} erneut versuchen."
    login_needed = "Bitte melden Sie sich an."
    # jobs list
    jobs_title = "Aufträge"
    filter_all = "Alle Aufträge"
    filter_attention = "Nur mit Handlungsbedarf"
    no_jobs = "Keine Aufträge."
    no_attention = "Kein Auftrag braucht gerade Aufmerksamkeit."
    col_job = "Auftrag"
    col_photos = "Fotos"
    col_unchecked = "Ungeprüfte Funde"
    col_errors = "Fehler"
    col_gallery = "Galerie"
    col_release = "Letzte Freigabe"
    col_activity = "Letzte Aktivität"
    done = "fertig"
    in_work = "in Arbeit"
    hidden_count = "ausgeblendet"
    never_released = "noch nie"
    released_by = "von"
    page_of = "Seite {page} von {pages} ({jobs})"
    previous = "Zurück"
    next = "Weiter"
    needs_attention = "Handlungsbedarf"
    # job page
    back_to_jobs = "Alle Aufträge"
    job_title = "Auftrag {job_id}"
    failed_title = "Fehlgeschlagene Dateien"
    failed_intro = "Diese Dateien sind nicht in der Galerie. Was zu tun ist:"
    photos_title = "Fotos"
    no_photos = "Noch keine Fotos in final_input/."
    no_preview = "Noch keine Vorschau"
    room = "Raum"
    findings = "Datenschutz-Funde"
    no_findings = "keine Funde"
    hide = "Ausblenden"
    show = "Einblenden"
    hidden_note = "Ausgeblendet von {by} am {when}: nicht in der Galerie"
    mark_checked = "Geprüft"
    unmark_checked = "Prüfung aufheben"
    checked_note = "Geprüft von {by} am {when}"
    technical = "Technische Angabe"
    # redaction ("Unkenntlich machen")
    redact = "Unkenntlich machen"
    redact_all = "Alle Funde unkenntlich machen"
    redact_area = "Bereich unkenntlich machen"
    redact_more = "Unkenntlich machen …"
    redact_undo = "Rückgängig"
    redact_confirm = "Bestätigen"
    redact_remove = "Entfernen"
    redacted_note = "Unkenntlich gemacht von {by} am {when}"
    redacted_by_policy = "Automatisch unkenntlich gemacht (Grundeinstellung) am {when}"
    redacted_count = "{areas} unkenntlich gemacht"
    open_finding = "offen"
    to_confirm_title = "Zu prüfen"
    to_confirm_intro = (
        "Die Datei wurde ersetzt. Diese Bereiche waren für die alte Fassung unkenntlich"
        " gemacht. Bitte ansehen: bestätigen oder entfernen. Bis dahin hält das Foto die"
        " Freigabe auf."
    )
    areas_title = "Unkenntlich gemachte Bereiche"
    dragged_area = "Bereich"
    area_help = (
        "Mit der Maus ein Rechteck über das Foto ziehen, dann auf „Bereich unkenntlich machen“"
        " klicken. Ohne Maus: Links, Oben, Breite und Höhe als Anteil des Fotos (0 bis 1)."
    )
    area_x = "Links"
    area_y = "Oben"
    area_w = "Breite"
    area_h = "Höhe"
    area_invalid = (
        "Der Bereich ist ungültig: Links, Oben, Breite und Höhe sind Zahlen zwischen 0 und 1"
        " (z. B. 0.25), und das Rechteck muss ganz im Foto liegen."
    )
    internal_view = "Intern (unverändert)"
    customer_view = "Kundenansicht"
    customer_view_note = "So bekommt der Kunde das Foto, sobald die Galerie es übernimmt."
    no_finding_box = (
        "Dieser Fund hat keine Position im Foto und kann nicht unkenntlich gemacht werden."
        " Bitte das Foto prüfen oder ausblenden."
    )
    rendition_failed = (
        "Die Kundenfassung dieses Fotos konnte nicht erstellt werden; es ist darum nicht in"
        " der Galerie."
    )
    rendition_todo = "Das Foto neu exportieren und ersetzen; bleibt der Fehler, die Technik fragen."
    open_large = "Groß ansehen"
    close = "Schließen"
    # release
    release_title = "Freigabe"
    customer_gets = "Der Kunde bekommt {photos}."
    changes_title = "Änderungen seit der letzten Freigabe"
    changes_title_first = "Neu in der Galerie"
    no_changes = "Keine Änderungen."
    first_release = "Erste Freigabe: der Kunde sieht die Galerie dann zum ersten Mal."
    unchecked_title = "Fotos mit ungeprüften Funden"
    approver = "Freigegeben von"
    note = "Notiz (optional)"
    acknowledge = "Ich habe die Fotos mit Datenschutz-Funden angesehen; sie dürfen so zum Kunden."
    release_button = "Galerie freigeben"
    revoke_title = "Freigabe zurücknehmen"
    revoke_intro = "Der Kunde sieht die Galerie dann nicht mehr."
    # What happens to the gallery.revoked event, by notifier (log: nobody is reached).
    revoke_told = "Das Web-Backend bekommt die Nachricht „Freigabe zurückgenommen“."
    revoke_logged = (
        "Die Nachricht „Freigabe zurückgenommen“ wird nur protokolliert; es ist kein Empfänger"
        " eingerichtet, niemand wird benachrichtigt."
    )
    revoke_confirm = "Ja, die Freigabe zurücknehmen: der Kunde sieht die Galerie nicht mehr."
    revoke_unconfirmed = "Bitte bestätigen, dass die Freigabe zurückgenommen werden soll."
    release_catching_up = (
        "Die Änderungen werden gerade übernommen; in wenigen Sekunden lässt sich freigeben."
    )
    revoked_by = "Zurückgenommen von"
    revoke_button = "Freigabe zurücknehmen"
    refused_title = "Nicht freigegeben"
    dagster_unreachable = (
        "Dagster ist unter {url} nicht erreichbar. Läuft die Dagster-Oberfläche"
        " (./scripts/dev.sh)? Technisch: {detail}"
    )
    # runs
    run_title_release = "Freigabe von Auftrag {job_id}"
    run_title_revoke = "Rücknahme der Freigabe von Auftrag {job_id}"
    run_running = "Läuft … die Seite aktualisiert sich selbst."
    run_success_release = "Erledigt: die Galerie ist für den Kunden sichtbar."
    run_success_revoke = "Erledigt: die Galerie ist nicht mehr für den Kunden sichtbar."
    run_failed = "Der Lauf ist fehlgeschlagen. Einzelheiten stehen in der Dagster-Oberfläche."
    run_in_dagster = "Lauf in der Dagster-Oberfläche ansehen"
    run_state = "Stand"
    back_to_job = "Zurück zum Auftrag"
    # notifications
    notifications_title = "Benachrichtigungen"
    notifications_none = "Noch keine."
    notification_release = "Freigabe {number}"
    notification_attempts = "{attempts}"
    notification_next = "nächster Versuch {when}"
    notification_error = "Letzter Fehler"
    notification_retry = "Erneut senden"
    notifications_failed_title = "Benachrichtigungen nicht zugestellt"
    notifications_failed_intro = (
        "Diese Nachrichten an den Kunden bzw. das Web-Backend sind nach allen Versuchen nicht"
        " angekommen. Im Auftrag lassen sie sich erneut senden."
    )
    # errors
    not_found = "Nicht gefunden."
    forbidden = "Nicht erlaubt: bitte die Seite neu laden und noch einmal versuchen."


def _frozen(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


IMAGE_STATUS = _frozen(
    {
        ImageStatus.PENDING_PROCESSING: "wird verarbeitet",
        ImageStatus.PROCESSED: "fertig",
        ImageStatus.ERROR: "fehlgeschlagen",
        ImageStatus.REMOVED: "entfernt",
    }
)
GALLERY_STATUS = _frozen(
    {
        GalleryStatus.NONE: "noch keine Galerie",
        GalleryStatus.DRAFT_READY: "Entwurf bereit",
        GalleryStatus.UPDATE_PENDING: "Änderungen warten auf Freigabe",
    }
)
# A released gallery that matches the pipeline is no draft any more: said so to Daniel.
RELEASED_CURRENT = "freigegeben, aktuell"


def seconds_text(seconds: int) -> str:
    """A wait in whole seconds as a German sentence needs it: 1 Sekunde, 5 Sekunden (with a
    no-break space, so a line never ends between number and unit)."""
    return f"{seconds}\u00a0Sekunde" if seconds == 1 else f"{seconds}\u00a0Sekunden"


def login_slowed_text(seconds: int) -> str:
    return T.login_slowed.format(wait=seconds_text(seconds))


# With the log notifier a "sent" notification reached nobody: it was written to the log.
SENT_LOGGED = "protokolliert (kein Empfänger eingerichtet)"
PENDING_LOGGED = "wird protokolliert"


def notification_status_text(status: str, notifier: str) -> str:
    """A notification's state; "zugestellt" only where a receiver exists."""
    if notifier == "log" and status == NotificationStatus.SENT:
        return SENT_LOGGED
    if notifier == "log" and status == NotificationStatus.PENDING:
        return PENDING_LOGGED
    return NOTIFICATION_STATUS[status]


def review_status_text(review: JobReview) -> str:
    """The job page's gallery state, from the same answer the release panel uses
    (`JobReview.update_pending`), so the two never disagree."""
    if review.update_pending:
        return GALLERY_STATUS[GalleryStatus.UPDATE_PENDING]
    return gallery_status_text(review.job.gallery_status, review.job.gallery_visibility)


def gallery_status_text(status: str, visibility: str) -> str:
    """The gallery's state in Daniel's words, with its visibility in mind."""
    if status == GalleryStatus.DRAFT_READY and visibility == GalleryVisibility.CUSTOMER:
        return RELEASED_CURRENT
    return GALLERY_STATUS[status]


VISIBILITY = _frozen(
    {
        GalleryVisibility.INTERNAL: "nur intern",
        GalleryVisibility.CUSTOMER: "für Kunden sichtbar",
    }
)
NOTIFICATION_KIND = _frozen(
    {
        EventKind.RELEASED: "Galerie freigegeben",
        EventKind.REVOKED: "Freigabe zurückgenommen",
        EventKind.DRAFT_READY: "Neuer Entwurf zur Durchsicht",
    }
)
NOTIFICATION_STATUS = _frozen(
    {
        NotificationStatus.PENDING: "wird zugestellt",
        NotificationStatus.SENT: "zugestellt",
        NotificationStatus.FAILED: "nicht zugestellt",
    }
)
CATEGORY = _frozen(
    {
        "faces": "Gesichter",
        "licence_plates": "Kennzeichen",
        "logos": "Logos",
        "text": "Text / Hausnummern",
        "house_numbers": "Hausnummern",
        "area": "Bereich",
        # Redactions of a replaced file that Daniel has not confirmed yet.
        "redactions_to_confirm": "Unkenntlich gemachte Bereiche zu prüfen (Datei ersetzt)",
        # The check could not run (its model is missing): nothing found, because nothing looked.
        "faces:not_checked": "Gesichter nicht geprüft (Erkennung fehlt) – bitte selbst ansehen",
        "licence_plates:not_checked": "Kennzeichen nicht geprüft (Erkennung fehlt)"
        " – bitte selbst ansehen",
        "logos:not_checked": "Logos nicht geprüft (Erkennung fehlt) – bitte selbst ansehen",
        "text:not_checked": "Text nicht geprüft (Erkennung fehlt) – bitte selbst ansehen",
    }
)
# What a box over a photo found (Detection.label).
FINDING = _frozen(
    {
        "face": "Gesicht",
        "licence_plate": "Kennzeichen",
        "house_number": "Hausnummer",
        "text": "Text",
        "logo": "Logo",
    }
)


def redaction_note(redaction: RedactionView, when: str) -> str:
    """Who made an area unrecognisable and when (`when` as the page writes times)."""
    if redaction.source == "policy":
        return T.redacted_by_policy.format(when=when)
    return T.redacted_note.format(by=redaction.by or "?", when=when)


def redaction_caption(redaction: RedactionView) -> str:
    """What a redaction covers: the finding it came from, or a dragged area."""
    if redaction.label is None:
        return T.dragged_area
    parts = [FINDING.get(redaction.label, redaction.label)]
    if redaction.text:
        parts.append(f"„{redaction.text}“")
    return " ".join(parts)


def finding_caption(box: FindingBox) -> str:
    """The tag on a box: what was found, what was read, how sure the check is
    ("Hausnummer „17b“ 93 %")."""
    parts = [FINDING.get(box.label, box.label)]
    if box.text:
        parts.append(f"„{box.text}“")
    parts.append(f"{box.score * 100:.0f} %")
    return " ".join(parts)


ROOM_TYPE = _frozen(
    {
        RoomType.KITCHEN: "Küche",
        RoomType.LIVING_ROOM: "Wohnzimmer",
        RoomType.DINING_ROOM: "Esszimmer",
        RoomType.BEDROOM: "Schlafzimmer",
        RoomType.CHILDRENS_ROOM: "Kinderzimmer",
        RoomType.BATHROOM: "Bad",
        RoomType.GUEST_WC: "Gäste-WC",
        RoomType.HALLWAY: "Flur",
        RoomType.STAIRCASE: "Treppenhaus",
        RoomType.OFFICE: "Arbeitszimmer",
        RoomType.UTILITY_ROOM: "Hauswirtschaftsraum",
        RoomType.STORAGE_ROOM: "Abstellraum",
        RoomType.BASEMENT: "Keller",
        RoomType.ATTIC: "Dachboden",
        RoomType.GARAGE: "Garage",
        RoomType.EXTERIOR_FRONT: "Außenansicht vorne",
        RoomType.EXTERIOR_BACK: "Außenansicht hinten",
        RoomType.EXTERIOR_SIDE: "Außenansicht seitlich",
        RoomType.GARDEN: "Garten",
        RoomType.TERRACE: "Terrasse",
        RoomType.BALCONY: "Balkon",
        RoomType.POOL: "Pool",
        RoomType.AERIAL: "Luftbild",
        RoomType.FLOOR_PLAN: "Grundriss",
        RoomType.SURROUNDINGS: "Umgebung",
        RoomType.DETAIL: "Detail",
        RoomType.OTHER: "Sonstiges",
    }
)
SOURCE = _frozen({"editor": "vom Bildbearbeiter", "manual": "von Daniel"})

# Why a file failed, and what to do about it.
ERROR = MappingProxyType(
    {
        ErrorKind.EMPTY: (
            "Die Datei ist leer (0 Byte).",
            "Die Datei noch einmal hochladen; wahrscheinlich ist das Hochladen abgebrochen.",
        ),
        ErrorKind.NOT_JPEG: (
            "Die Datei ist kein JPEG, obwohl sie so heißt (z. B. ein PNG oder HEIC).",
            "Das Foto als JPEG exportieren und unter demselben Namen neu ablegen.",
        ),
        ErrorKind.TOO_LARGE: (
            "Das Bild ist zu groß, um es sicher zu öffnen.",
            "Das Foto in kleinerer Auflösung exportieren und neu ablegen.",
        ),
        ErrorKind.UNSUPPORTED_JPEG: (
            "Diese JPEG-Variante kann nicht geöffnet werden (z. B. 12 Bit oder verlustfrei).",
            "Das Foto als normales 8-Bit-JPEG exportieren und neu ablegen.",
        ),
        ErrorKind.DAMAGED: (
            "Die Datei ist beschädigt oder unvollständig.",
            "Die Datei noch einmal exportieren oder hochladen und die alte ersetzen.",
        ),
        ErrorKind.STEP_FAILED: (
            "Ein Verarbeitungsschritt ist an diesem Foto gescheitert.",
            "Der nächste Lauf versucht es erneut; bleibt der Fehler, die Technik fragen.",
        ),
        ErrorKind.UNKNOWN: (
            "Das Foto konnte nicht verarbeitet werden.",
            "Die Datei neu ablegen; bleibt der Fehler, die Technik fragen.",
        ),
    }
)

RUN_STATUS = _frozen(
    {
        "QUEUED": "in der Warteschlange",
        "NOT_STARTED": "noch nicht gestartet",
        "MANAGED": "wird gestartet",
        "STARTING": "startet",
        "STARTED": "läuft",
        "SUCCESS": "erfolgreich",
        "FAILURE": "fehlgeschlagen",
        "CANCELING": "wird abgebrochen",
        "CANCELED": "abgebrochen",
    }
)


def change_text(change: GalleryChange) -> str:
    """One pending gallery change, as a line of the release form."""
    if change.kind is ChangeKind.ADD:
        return f"{change.filename}: kommt neu dazu"
    if change.kind is ChangeKind.REPLACE:
        return f"{change.filename}: neue Fassung ersetzt die alte"
    if change.kind is ChangeKind.EXPOSE:
        return "Exposé-Daten werden aktualisiert"
    why = {
        "hidden": "ausgeblendet",
        ImageStatus.ERROR.value: "fehlgeschlagen",
        ImageStatus.REMOVED.value: "aus final_input/ gelöscht",
    }.get(change.reason, "nicht mehr verarbeitet")
    return f"{change.filename}: fällt weg ({why})"


def refusal_text(check: ReleaseCheck) -> str:
    """Why the gallery cannot be released now, in plain words."""
    refusal = check.refusal
    if refusal is Refusal.UNCHECKED_FINDINGS:
        names = ", ".join(sorted(check.findings))
        return (
            f"{photos(len(check.findings))} mit ungeprüften Datenschutz-Funden: {names}."
            " Bitte jedes ansehen und auf „Geprüft“ klicken oder es ausblenden –"
            " oder das Häkchen setzen, dass Sie die Funde angesehen haben."
        )
    if refusal is Refusal.NO_PHOTOS:
        return "Es gibt kein fertiges, eingeblendetes Foto, das der Kunde sehen könnte."
    if refusal is Refusal.NOTHING_PENDING:
        return "Die Galerie ist schon freigegeben und hat keine neuen Änderungen."
    if refusal is Refusal.NO_APPROVER:
        return "Bitte eintragen, wer freigibt."
    if refusal is Refusal.NOT_REGISTERED:
        return "Diesen Auftrag gibt es nicht."
    if refusal is Refusal.NOT_RELEASED:
        return "Die Galerie ist nicht freigegeben; es gibt nichts zurückzunehmen."
    return ""


def revoke_refusal_text(refusal: Refusal) -> str:
    """Why a release cannot be taken back now."""
    if refusal is Refusal.NO_APPROVER:
        return "Bitte eintragen, wer die Freigabe zurücknimmt."
    return refusal_text(ReleaseCheck("", refusal))


# -- the exposé's content: fields per photo, order and cover ---------------------------


class F:
    """Texts of a photo's exposé fields, the gallery order and the cover."""

    room_type = "Raum"
    view_type = "Ansicht"
    caption_short = "Kurztext"
    caption_long = "Beschreibung"
    limit = "höchstens {limit} Zeichen"
    count = "{used}/{limit}"
    save = "Speichern"
    saving = "Speichert …"
    saved = "Gespeichert"
    save_failed = "Nicht gespeichert: {reason}"
    not_set = "—"
    not_set_label = "nicht gesetzt"
    pending = "noch nicht erkannt"
    by_daniel = "von Ihnen gesetzt"
    by_provider = "erkannt von {provider}"
    earlier = "Früher"
    later = "Später"
    make_cover = "Als Titelbild"
    is_cover = "Titelbild"
    no_cover = "Kein Titelbild"
    cover_hidden = "Titelbild ist ausgeblendet: der Kunde sieht kein Titelbild."
    drag_hint = "Zum Umsortieren ziehen oder „Früher“/„Später“ nutzen."
    select = "Auswählen"
    bulk_title = "Raum für ausgewählte Fotos"
    bulk_button = "Raum setzen"
    bulk_none = "Bitte zuerst Fotos auswählen."
    bulk_done = "Raum für {count} Fotos gesetzt."
    invalid = "Dieser Wert passt nicht: {detail}"


VIEW_TYPE = _frozen(
    {
        ViewType.INTERIOR: "Innenansicht",
        ViewType.EXTERIOR: "Außenansicht",
        ViewType.AERIAL: "Luftbild",
        ViewType.VIEW_FROM_PROPERTY: "Ausblick",
        ViewType.DETAIL: "Detail",
        ViewType.FLOOR_PLAN: "Grundriss",
        ViewType.OTHER: "Sonstiges",
    }
)


def field_source(entry: object) -> str:
    """Who a field's value came from, for the small line under it ("" when not set)."""
    source = getattr(entry, "source", None)
    if source is None:
        return ""
    if source == DANIEL:
        return F.by_daniel
    return F.by_provider.format(provider=source)


def plural(count: int, one: str, many: str) -> str:
    """ "1 Auftrag", "2 Aufträge": the count with the right form of the noun."""
    return f"{count} {one if count == 1 else many}"


def jobs(count: int) -> str:
    return plural(count, "Auftrag", "Aufträge")


def redacted_areas(count: int) -> str:
    """ "1 Bereich unkenntlich gemacht", "2 Bereiche …" on a photo card."""
    return T.redacted_count.format(areas=plural(count, "Bereich", "Bereiche"))


def photos(count: int) -> str:
    return plural(count, "Foto", "Fotos")


def attempts(count: int) -> str:
    return plural(count, "Versuch", "Versuche")
