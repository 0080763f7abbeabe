"""Where things are: the API's path templates (as the routes in app.py declare them), paths
built from them (Location headers, links in emails), and the query parameters that carry
credentials in those links (read by the access guard, never validated as data)."""

from __future__ import annotations

RESTAURANT = "/restaurants/{restaurant_id}"
RESERVATION = RESTAURANT + "/reservations/{reservation_id}"
RESPOND = RESERVATION + "/respond"  # the page behind a staff email's accept/decline link
MANAGE = RESERVATION + "/manage"  # the guest's page behind the manage link
BOOK = RESTAURANT + "/book"  # the guest's booking page
STAFF_DAY = RESTAURANT + "/staff"  # the staff day view (?date=YYYY-MM-DD), behind a session
STAFF_SIGN_IN = RESTAURANT + "/staff/sign-in"  # signed link -> a session; or ask for a link
STAFF_SIGN_IN_LINK = RESTAURANT + "/staff/sign-in-link"  # ask for a sign-in link by email
STAFF_SIGN_OUT = RESTAURANT + "/staff/sign-out"
STATIC = "/static/{asset}"  # the pages' stylesheet, named by its content hash

MANAGE_TOKEN = "token"  # ?token=: a reservation's manage token
LINK_ACTION = "action"  # ?action=&expires=&signature=: a signed staff link
LINK_EXPIRES = "expires"
LINK_SIGNATURE = "signature"
LINK_STAFF = "staff"  # ?staff=&day=&expires=&signature=: a signed staff sign-in link
LINK_DAY = "day"
CREDENTIALS = (MANAGE_TOKEN, LINK_ACTION, LINK_EXPIRES, LINK_SIGNATURE, LINK_STAFF)
CSRF_FIELD = "csrf_token"  # the hidden field of every form of a staff session
CANCEL_STEP = "step"  # ?step=cancel (or =remove) on the manage page: the question before it
# The manage page's POST: its form's `intent` is REMOVE_DETAILS to remove the guest's details;
# without one (the cancel form), it cancels.
MANAGE_INTENT, REMOVE_DETAILS = "intent", "remove-details"


def restaurant_path(restaurant_id: str) -> str:
    return RESTAURANT.format(restaurant_id=restaurant_id)


def reservation_path(template: str, restaurant_id: str, reservation_id: str) -> str:
    """`template` (RESERVATION, RESPOND or MANAGE) for one reservation."""
    return template.format(restaurant_id=restaurant_id, reservation_id=reservation_id)
