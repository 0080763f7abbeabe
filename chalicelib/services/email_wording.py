"""Every word the emails and calendar invites say, in each language the service writes
(`domain.contact.LANGUAGES`): one dict per language, the same keys and the same `{fields}` in
each (tests/unit/test_email_wording.py holds them to it).

Values from guests and restaurants are filled in with `str.format`; the HTML is escaped after
that, by `services.emails`, never here. French puts a non-breaking space (U+00A0) before ":".
"""

from __future__ import annotations

from chalicelib.domain.contact import Language

WORDING: dict[Language, dict[str, str]] = {
    "en": {
        # Dates and times: names and formats come from CLDR (Babel); this pattern only says
        # which pieces a short date shows, for subjects ("Wed 3 Jun").
        "short_date_pattern": "EEE d MMM",
        "when": "{date} at {time}",
        "colon": ": ",  # between a label and its value ("Email: ada@example.com")
        "guests_one": "{count} guest",
        "guests_other": "{count} guests",
        # Staff: a new request.
        "request_subject": "Booking request: {guest}, {party}, {date} {time}",
        "request_title": "Booking request at {restaurant}",
        "request_intro": "{guest} asks for a table for {party} on {when}.",
        "email_label": "Email",
        "phone_label": "Phone",
        "notes_label": "Notes",
        "no_notes": "(none)",
        "accept": "Accept",
        "decline": "Decline",
        "answer_note": (
            "Each link opens a page showing the request; nothing changes until you press its "
            "button. The links work until the seating time."
        ),
        "day_view": "Open the day's bookings",
        # Staff: a sign-in link asked for on the sign-in page.
        "sign_in_subject": "Your sign-in link for {restaurant}'s bookings",
        "sign_in_title": "Sign in to {restaurant}'s bookings",
        "sign_in_intro": (
            "Someone asked for a link to sign in to {restaurant}'s bookings with this address. "
            "It works for {minutes} minutes, on one device at a time."
        ),
        "sign_in_link": "Sign in to the bookings",
        "sign_in_ignore": "Not you? Ignore this email: without the link nothing happens.",
        # Staff: a guest cancelled.
        "guest_cancelled_subject": "Cancelled by the guest: {guest}, {party}, {date} {time}",
        "guest_cancelled_title": "A guest cancelled at {restaurant}",
        "guest_cancelled_intro": (
            "{guest} cancelled their reservation for {party} on {when}. The table is free again."
        ),
        # Staff: a request nobody answered by its deadline was declined.
        "expired_subject": "Not answered in time: {guest}, {party}, {date} {time}",
        "expired_title": "A request at {restaurant} expired unanswered",
        "expired_intro": (
            "Nobody answered {guest}'s request for {party} on {when} by {deadline}, so it was "
            "declined. The guest has been told; the table is free again."
        ),
        "no_answer_reason": "no answer in time",
        # Guests.
        "received_subject": "Request received: your table at {restaurant}, {date} {time}",
        "received_intro": (
            "Thank you, {guest}: {restaurant} has your request for a table for {party} on {when}."
        ),
        "received_pending": (
            "It is not confirmed yet: you will get another email as soon as the restaurant answers."
        ),
        "manage_request": "To view or cancel your request",
        "accepted_subject": "Confirmed: your table at {restaurant}, {date} {time}",
        "accepted_intro": (
            "Good news, {guest}: your table for {party} at {restaurant} on {when} is confirmed."
        ),
        "accepted_invite": "The invitation attached adds it to your calendar.",
        "manage_reservation": "To view or cancel your reservation",
        "declined_subject": "Your request at {restaurant} for {date} {time} was declined",
        "declined_intro": "Sorry, {guest}: {restaurant} cannot seat {party} on {when}.",
        "declined_reason": "Reason: {reason}",
        "declined_again": "You are welcome to book another time.",
        "cancelled_subject": "Cancelled: your reservation at {restaurant}, {date} {time}",
        "cancelled_by_guest": (
            "{guest}, as you asked, your reservation for {party} at {restaurant} on {when} is "
            "cancelled."
        ),
        "cancelled_by_restaurant": (
            "{guest}, {restaurant} has cancelled your reservation for {party} on {when}."
        ),
        "cancelled_invite": "The update attached removes it from your calendar.",
        "reply_note": "Reply to this email to write to {restaurant}.",
        # The calendar invite.
        "invite_summary": "{restaurant}: table for {party}",
        "invite_description": "A table for {party} in the name of {guest}.",
        "invite_cancelled": "Cancelled: {summary}",
    },
    "fr": {
        "short_date_pattern": "EEE d MMM",
        "when": "{date} à {time}",
        "colon": "\u00a0: ",
        "guests_one": "{count} personne",
        "guests_other": "{count} personnes",
        "request_subject": "Demande de réservation\u00a0: {guest}, {party}, {date} {time}",
        "request_title": "Demande de réservation chez {restaurant}",
        "request_intro": "{guest} demande une table pour {party} le {when}.",
        "email_label": "E-mail",
        "phone_label": "Téléphone",
        "notes_label": "Remarques",
        "no_notes": "(aucune)",
        "accept": "Accepter",
        "decline": "Refuser",
        "answer_note": (
            "Chaque lien ouvre une page qui montre la demande. Rien ne change avant que vous "
            "appuyiez sur son bouton. Les liens sont valables jusqu'à l'heure du repas."
        ),
        "day_view": "Voir les réservations du jour",
        "sign_in_subject": "Votre lien de connexion aux réservations de {restaurant}",
        "sign_in_title": "Connexion aux réservations de {restaurant}",
        "sign_in_intro": (
            "Quelqu'un a demandé un lien de connexion aux réservations de {restaurant} pour "
            "cette adresse. Il est valable {minutes} minutes."
        ),
        "sign_in_link": "Se connecter aux réservations",
        "sign_in_ignore": (
            "Ce n'était pas vous ? Ignorez cet e-mail : sans le lien, rien ne se passe."
        ),
        "guest_cancelled_subject": "Annulée par le client\u00a0: {guest}, {party}, {date} {time}",
        "guest_cancelled_title": "Un client a annulé chez {restaurant}",
        "guest_cancelled_intro": (
            "{guest} a annulé sa réservation pour {party} du {when}. La table est de nouveau libre."
        ),
        "expired_subject": "Sans réponse à temps : {guest}, {party}, {date} {time}",
        "expired_title": "Une demande chez {restaurant} a expiré sans réponse",
        "expired_intro": (
            "Personne n'a répondu à la demande de {guest} pour {party} le {when} avant "
            "{deadline} : elle a été refusée. Le client est prévenu ; la table est de "
            "nouveau libre."
        ),
        "no_answer_reason": "pas de réponse à temps",
        "received_subject": "Demande reçue\u00a0: votre table chez {restaurant}, {date} {time}",
        "received_intro": (
            "Merci, {guest}\u00a0: {restaurant} a bien reçu votre demande de table pour {party} "
            "le {when}."
        ),
        "received_pending": (
            "Elle n'est pas encore confirmée\u00a0: vous recevrez un autre e-mail dès que le "
            "restaurant aura répondu."
        ),
        "manage_request": "Pour voir ou annuler votre demande",
        "accepted_subject": "Confirmée\u00a0: votre table chez {restaurant}, {date} {time}",
        "accepted_intro": (
            "Bonne nouvelle, {guest}\u00a0: votre table pour {party} chez {restaurant} le "
            "{when} est confirmée."
        ),
        "accepted_invite": "L'invitation jointe l'ajoute à votre agenda.",
        "manage_reservation": "Pour voir ou annuler votre réservation",
        "declined_subject": "Votre demande chez {restaurant} pour le {date} {time} est refusée",
        "declined_intro": (
            "Désolés, {guest}\u00a0: {restaurant} ne peut pas accueillir {party} le {when}."
        ),
        "declined_reason": "Motif\u00a0: {reason}",
        "declined_again": "Vous pouvez réserver à un autre moment.",
        "cancelled_subject": "Annulée\u00a0: votre réservation chez {restaurant}, {date} {time}",
        "cancelled_by_guest": (
            "{guest}, comme vous l'avez demandé, votre réservation pour {party} chez "
            "{restaurant} le {when} est annulée."
        ),
        "cancelled_by_restaurant": (
            "{guest}, {restaurant} a annulé votre réservation pour {party} du {when}."
        ),
        "cancelled_invite": "La mise à jour jointe la retire de votre agenda.",
        "reply_note": "Répondez à cet e-mail pour écrire à {restaurant}.",
        "invite_summary": "{restaurant}\u00a0: table pour {party}",
        "invite_description": "Une table pour {party} au nom de {guest}.",
        "invite_cancelled": "Annulée\u00a0: {summary}",
    },
}


def words(language: Language) -> dict[str, str]:
    """The wording of one language."""
    return WORDING[language]
