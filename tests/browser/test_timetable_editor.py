"""The timetable editor in Chromium: a session dragged with the mouse to another room and
time and confirmed; a session moved with the keyboard alone (pick up, arrows, drop, confirm,
every step announced); the dialog asking again when the programme changed before the confirm;
a move onto an occupied room refused next to the session, which stays where it was; the page
passes the accessibility audit, and without JavaScript it is a table whose sessions link to
their edit form."""

import pytest
from playwright.sync_api import expect

from eventapp.extensions import db
from eventapp.models import AuditEntry, EventSession, OutboxMessage, Room
from eventapp.models.types import utcnow
from eventapp.services.backoffice.accounts import create_organiser
from eventapp.services.registration import register as registration
from eventapp.services.registration.register import RegistrationInput
from tests.browser.conftest import WIDE
from tests.browser.test_organiser_dashboard import sign_in
from tests.conftest import ORGANISER_PASSWORD

pytestmark = pytest.mark.browser
TALL = {"width": WIDE["width"], "height": 1700}
MOVED = "Fieldlab demo: Zero Defect Manufacturing"  # Fieldlab Demohal, 11:30-12:30


@pytest.fixture
def editor(demo_event):
    """The demo event with two attendees in the workshop the tests move, and an admin."""
    event_id = demo_event.id
    session = db.session.scalar(db.select(EventSession).where(EventSession.title == MOVED))
    for name in ("Anna Jansen", "Bas Visser"):
        registration.register(
            session.event,
            RegistrationInput(
                name=name,
                email=name.split()[0].lower() + "@example.org",
                session_ids=[session.id],
                consent=True,
            ),
            utcnow(),
        )
    create_organiser("planner@example.org", ORGANISER_PASSWORD, role="admin")
    rooms = {r.name: r.id for r in db.session.scalars(db.select(Room))}
    facts = {"session_id": session.id, "rooms": rooms, "event_id": event_id}
    db.session.commit()
    db.session.remove()
    return demo_event, facts


def slot(event, hhmm: str) -> str:
    return f"{event.starts_at.astimezone(event.tz).date().isoformat()}T{hhmm}"


def open_editor(new_page, event, **options):
    # Tall enough for the whole day: the drags below don't depend on scrolling.
    page = new_page(viewport=TALL, locale="en-GB", **options)
    sign_in(page, "planner@example.org")
    page.goto(f"/organiser/events/{event.slug}/timetable")
    if options.get("javascript", True):
        # Keys pressed before timetable.js has set up would do nothing (a flake under load).
        page.wait_for_selector("#timetable[data-ready='true']", state="attached")
    return page


def where_now(session_id: int) -> tuple[str, str | None, int]:
    """(local start, room name, sequence) of the session as the database has it."""
    db.session.remove()
    session = db.session.get(EventSession, session_id)
    local = session.starts_at.astimezone(session.event.tz).strftime("%H:%M")
    facts = (local, session.room.name if session.room else None, session.sequence)
    db.session.remove()
    return facts


def emails_about(session_id: int) -> int:
    db.session.remove()
    rows = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.kind == "session_moved")
    ).all()
    db.session.remove()
    return sum(1 for row in rows if session_id in row.payload.get("session_ids", []))


def drag(page, card, *, room_id: int, to_slot: str):
    """Press on the card, move in steps to the room's column at the slot's row, release."""
    card.scroll_into_view_if_needed()
    start = card.bounding_box()
    column = page.locator(f"thead th[data-room='{room_id}']").first.bounding_box()
    row = page.locator(f"tr[data-slot='{to_slot}']").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 8)
    page.mouse.down()
    page.mouse.move(column["x"] + column["width"] / 2, row["y"] + row["height"] / 2, steps=12)
    page.mouse.up()


def test_drag_a_session_to_another_room_and_time_and_confirm(
    editor, new_page, axe_audit, screenshot
):
    event, facts = editor
    session_id = facts["session_id"]
    _start, _room, sequence = where_now(session_id)
    page = open_editor(new_page, event)
    card = page.locator(f"#te-session-{session_id}")
    expect(card.locator(".te-handle")).to_be_visible()

    drag(page, card, room_id=facts["rooms"]["Studio 2"], to_slot=slot(event, "15:45"))

    dialog = page.locator("#te-confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(MOVED)
    expect(dialog).to_contain_text("15:45–16:45, Studio 2")
    expect(dialog).to_contain_text("This moves the session of 2 attendees")
    expect(dialog).to_contain_text("2 people are emailed about the change.")
    assert where_now(session_id)[:2] == ("11:30", "Fieldlab Demohal")  # nothing saved yet
    assert axe_audit(page) == []
    screenshot(page, "organiser-timetable", full_page=False)

    page.get_by_role("button", name="Move the session").click()
    expect(page.locator("#te-result")).to_contain_text("moved to")
    moved = page.locator(f"#te-session-{session_id}")
    expect(moved).to_have_attribute("data-starts", slot(event, "15:45"))
    expect(moved).to_have_attribute("data-room", str(facts["rooms"]["Studio 2"]))
    expect(moved.locator(".te-handle")).to_be_focused()

    start, room, new_sequence = where_now(session_id)
    assert (start, room) == ("15:45", "Studio 2")
    assert new_sequence == sequence + 1  # the calendars pick the move up
    assert emails_about(session_id) == 2  # the form's notifications, one per attendee
    db.session.remove()
    entry = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == "session.moved")
    ).one()
    assert entry.organiser.email == "planner@example.org"
    assert entry.object_id == session_id
    assert entry.after["room_id"] == facts["rooms"]["Studio 2"]
    db.session.remove()


def test_move_a_session_with_the_keyboard_only(editor, new_page):
    event, facts = editor
    session_id = facts["session_id"]
    page = open_editor(new_page, event)
    handle = page.locator(f"#te-session-{session_id} .te-handle")
    handle.focus()
    live = page.locator("#te-live")

    page.keyboard.press("Enter")
    expect(live).to_contain_text(f"Picked up “{MOVED}”, 11:30–12:30, Fieldlab Demohal")
    for _ in range(3):  # 11:30 -> 12:15 in quarter hours
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(live).to_have_text("12:00–13:00, Fieldlab Demohal")
    page.keyboard.press("ArrowLeft")  # the first room already: stays
    page.keyboard.press("ArrowRight")
    expect(live).to_have_text("12:00–13:00, Grote Zaal")
    page.keyboard.press("Escape")  # changed my mind: it stays
    expect(live).to_contain_text("Move cancelled")
    assert where_now(session_id)[:2] == ("11:30", "Fieldlab Demohal")

    page.keyboard.press("Space")
    for _ in range(17):  # 11:30 -> 15:45
        page.keyboard.press("ArrowDown")
    expect(live).to_have_text("15:45–16:45, Fieldlab Demohal")
    page.keyboard.press("Enter")
    dialog = page.locator("#te-confirm")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("button", name="Move the session")).to_be_focused()
    page.keyboard.press("Enter")
    expect(live).to_contain_text(f"“{MOVED}” moved to")
    expect(page.locator(f"#te-session-{session_id} .te-handle")).to_be_focused()
    assert where_now(session_id)[:2] == ("15:45", "Fieldlab Demohal")
    assert emails_about(session_id) == 2


def test_the_dialog_asks_again_when_the_programme_changed_meanwhile(editor, new_page):
    event, facts = editor
    session_id = facts["session_id"]
    page = open_editor(new_page, event)
    page.locator(f"#te-session-{session_id} .te-handle").focus()
    page.keyboard.press("Enter")
    for _ in range(17):  # 11:30 -> 15:45
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    dialog = page.locator("#te-confirm")
    expect(dialog).to_contain_text("2 people are emailed about the change.")
    expect(page.locator("#te-confirm-changed")).to_be_hidden()

    # Someone registers for the workshop while the dialog is open.
    session = db.session.get(EventSession, session_id)
    registration.register(
        session.event,
        RegistrationInput(
            name="Cor Smit", email="cor@example.org", session_ids=[session_id], consent=True
        ),
        utcnow(),
    )
    db.session.commit()
    db.session.remove()

    page.get_by_role("button", name="Move the session").click()
    expect(page.locator("#te-confirm-changed")).to_contain_text("The programme changed")
    expect(dialog).to_contain_text("3 people are emailed about the change.")
    assert where_now(session_id)[:2] == ("11:30", "Fieldlab Demohal")  # not saved
    assert emails_about(session_id) == 0
    page.get_by_role("button", name="Move the session").click()
    expect(page.locator("#te-result")).to_contain_text("moved to")
    assert where_now(session_id)[:2] == ("15:45", "Fieldlab Demohal")
    assert emails_about(session_id) == 3


def test_a_move_onto_an_occupied_room_is_refused_and_put_back(editor, new_page, axe_audit):
    event, facts = editor
    session_id = facts["session_id"]
    page = open_editor(new_page, event)
    card = page.locator(f"#te-session-{session_id}")
    home = card.bounding_box()

    # "Cobots op de werkvloer" holds the Fieldlab Demohal from 13:30.
    drag(page, card, room_id=facts["rooms"]["Fieldlab Demohal"], to_slot=slot(event, "13:30"))

    error = page.locator(f"#te-error-{session_id}")
    expect(error).to_contain_text("Fieldlab Demohal already holds “Cobots op de werkvloer”")
    expect(page.locator("#te-confirm")).to_be_hidden()
    expect(card).to_have_attribute("data-starts", slot(event, "11:30"))
    assert card.bounding_box() == home  # put back where it was
    expect(page.locator(".te-target")).to_be_hidden()
    assert where_now(session_id)[:2] == ("11:30", "Fieldlab Demohal")
    assert emails_about(session_id) == 0
    assert axe_audit(page) == []

    # The keyboard gets the same answer, announced.
    page.locator(f"#te-session-{session_id} .te-handle").focus()
    page.keyboard.press("Enter")
    for _ in range(8):  # 11:30 -> 13:30
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#te-live")).to_contain_text("Not moved")
    expect(page.locator(f"#te-session-{session_id} .te-handle")).to_be_focused()


def test_without_javascript_the_timetable_links_to_the_form(editor, new_page):
    event, facts = editor
    page = open_editor(new_page, event, javascript=False)
    card = page.locator(f"#te-session-{facts['session_id']}")
    expect(card).to_contain_text(MOVED)
    expect(card.locator(".te-handle")).to_have_count(0)
    expect(page.locator(".te-help-nojs")).to_be_visible()
    card.get_by_role("link", name=MOVED).click()
    expect(page.locator("h1")).to_have_text("Edit session")


def test_drag_by_the_handle_on_a_touch_screen(editor, browser, live_server):
    """A finger on the handle drags (touch events, as a tablet sends them, through the
    DevTools protocol) and the dialog shows the target; the move is saved like a mouse drag."""
    event, facts = editor
    context = browser.new_context(
        base_url=live_server, viewport=TALL, locale="en-GB", has_touch=True
    )
    try:
        page = context.new_page()
        sign_in(page, "planner@example.org")
        page.goto(f"/organiser/events/{event.slug}/timetable")
        handle = page.locator(f"#te-session-{facts['session_id']} .te-handle")
        grip = handle.bounding_box()
        column = page.locator(f"thead th[data-room='{facts['rooms']['Studio 3']}']").bounding_box()
        row = page.locator(f"tr[data-slot='{slot(event, '16:45')}']").bounding_box()
        devtools = context.new_cdp_session(page)
        x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
        to_x, to_y = column["x"] + column["width"] / 2, row["y"] + row["height"] / 2

        def touch(kind, points):
            devtools.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", [{"x": x, "y": y}])
        for step in range(1, 13):
            touch("touchMove", [{"x": x + (to_x - x) * step / 12, "y": y + (to_y - y) * step / 12}])
        touch("touchEnd", [])

        dialog = page.locator("#te-confirm")
        expect(dialog).to_contain_text("16:45–17:45, Studio 3")
        # Confirmed with a click: in headless Chromium the first synthetic tap after a
        # synthetic touch drag produces no click (a second one does), with or without a pause.
        page.get_by_role("button", name="Move the session").click()
        expect(page.locator("#te-result")).to_contain_text("moved to")
    finally:
        context.close()
    assert where_now(facts["session_id"])[:2] == ("16:45", "Studio 3")


def test_a_move_after_the_sign_in_expired_says_so_and_changes_nothing(editor, new_page):
    event, facts = editor
    session_id = facts["session_id"]
    page = open_editor(new_page, event)
    # A request still in flight would set the session cookie again as it answers (CI
    # saw the scan go through signed in): the page settles first.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()  # signed out meanwhile: the page's CSRF token is stale too
    page.locator(f"#te-session-{session_id} .te-handle").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(f"#te-error-{session_id}")).to_contain_text("Sign in again")
    expect(page.locator("#te-confirm")).to_be_hidden()
    assert where_now(session_id)[:2] == ("11:30", "Fieldlab Demohal")
