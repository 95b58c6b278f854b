"""The attendee pages over HTTP: the list, one attendee's page and its forms, the waiting
lists, the CSV downloads, and the dashboard's panels."""

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from eventapp.extensions import db
from eventapp.models import AuditEntry, OutboxMessage, Registration
from eventapp.services.mail import outbox
from eventapp.services.registration import register as registration
from tests.web.conftest import sign_up


@pytest.fixture
def signed_in(client, make_organiser, login):
    """Sign in with a role, pages in English: `signed_in("admin")`."""

    def sign_in(role="organiser"):
        client.get("/lang/en")
        return login(make_organiser(role))

    return sign_in


@pytest.fixture
def programme(make_event, make_session, make_room):
    event = make_event()
    room = make_room(event, "Studio", capacity=1)
    plenary = make_session(event, kind="plenary", capacity=100, title="Opening")
    full = make_session(event, start=1, capacity=1, title="Small workshop", room=room)
    other = make_session(event, start=1, capacity=10, title="Big workshop")
    return event, plenary, full, other


def test_list_searches_filters_and_links(client, signed_in, programme, now):
    event, plenary, full, other = programme
    sign_up(
        event,
        [plenary, full],
        "ada@example.org",
        now,
        name="Ada Lovelace",
        organisation="Engines BV",
    )
    sign_up(event, [plenary, full], "bob@example.org", now, name="Bob", waitlist_ok=True)
    signed_in()
    base = f"/organiser/events/{event.slug}/attendees"

    page = client.get(base).get_data(as_text=True)
    assert "Ada Lovelace" in page and "Bob" in page
    page = client.get(f"{base}?q=engines").get_data(as_text=True)
    assert "Ada Lovelace" in page and "bob@example.org" not in page
    page = client.get(f"{base}?session={full.id}&status=waitlisted").get_data(as_text=True)
    assert "bob@example.org" in page and "ada@example.org" not in page
    # The export link keeps the filter.
    assert f"attendees.csv?session={full.id}&amp;status=waitlisted" in page
    page = client.get(f"{base}?checked_in=yes").get_data(as_text=True)
    assert "No attendees match" in page


def test_edit_move_and_cancel_through_the_forms(client, signed_in, programme, now):
    event, plenary, full, other = programme
    ada = sign_up(event, [plenary, other], "ada@example.org", now)
    sign_up(event, [full], "bob@example.org", now)
    signed_in("organiser")
    url = f"/organiser/events/{event.slug}/attendees/{ada.id}"

    response = client.post(
        f"{url}/edit",
        data={
            "name": "Ëlise Müller",
            "email": "elise@example.org",
            "organisation": "Müller & Zn",
        },
    )
    assert response.status_code == 302
    assert "Ëlise Müller" in client.get(url).get_data(as_text=True)

    # The small workshop is full: the form says so and nothing changes.
    response = client.post(f"{url}/sessions", data={"sessions": [str(plenary.id), str(full.id)]})
    assert response.status_code == 422
    assert "Full" in response.get_data(as_text=True)
    assert {
        r.session_id
        for r in db.session.scalars(
            select(Registration).where(
                Registration.attendee_id == ada.id, Registration.status == "confirmed"
            )
        )
    } == {plenary.id, other.id}

    # An organiser (not an admin) can't override, even by posting the field.
    response = client.post(
        f"{url}/sessions",
        data={"sessions": [str(plenary.id), str(full.id)], "override_capacity": "y"},
    )
    assert response.status_code == 422
    assert "Only an admin" in response.get_data(as_text=True)

    # Two workshops at once: refused.
    response = client.post(
        f"{url}/sessions",
        data={"sessions": [str(plenary.id), str(full.id), str(other.id)], "waitlist": "y"},
    )
    assert response.status_code == 422

    response = client.post(
        f"{url}/sessions", data={"sessions": [str(plenary.id), str(full.id)], "waitlist": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert {r.session_id: r.status for r in db.session.get(type(ada), ada.id).registrations} == {
        plenary.id: "confirmed",
        other.id: "cancelled",
        full.id: "waitlisted",
    }

    response = client.post(f"{url}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(ada), ada.id).status == "cancelled"
    kinds = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.attendee_id == ada.id)
    ).all()
    assert "cancelled" in kinds and "sessions_dropped" in kinds
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"attendee.update", "attendee.move", "attendee.cancel"} <= actions


def test_admin_overrides_capacity_from_the_attendee_page(client, signed_in, programme, now):
    event, plenary, full, other = programme
    ada = sign_up(event, [plenary], "ada@example.org", now)
    sign_up(event, [full], "bob@example.org", now)
    admin = signed_in("admin")
    url = f"/organiser/events/{event.slug}/attendees/{ada.id}"
    assert "Admin: book a full session anyway" in client.get(url).get_data(as_text=True)

    response = client.post(
        f"{url}/sessions",
        data={"sessions": [str(plenary.id), str(full.id)], "override_capacity": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    session = db.session.get(type(full), full.id)
    assert (session.capacity, session.seats_taken) == (2, 2)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "session.capacity_override")
    ).one()
    assert entry.organiser_id == admin.id and entry.after["attendee"] == ada.reference
    # The room holds one: the programme now has a capacity warning on the dashboard.
    page = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)
    assert 'id="conflicts"' in page and "Studio" in page


def test_waiting_list_page_promotes_by_hand(client, signed_in, programme, now):
    event, plenary, full, other = programme
    holder = sign_up(event, [full], "holder@example.org", now)
    first = sign_up(event, [full], "first@example.org", now, waitlist_ok=True)
    second = sign_up(event, [full], "second@example.org", now, waitlist_ok=True)
    signed_in("organiser")
    page = client.get(f"/organiser/events/{event.slug}/waitlists").get_data(as_text=True)
    assert page.index("first@example.org") < page.index("second@example.org")

    second_reg = next(r for r in second.registrations if r.session_id == full.id)
    promote = f"/organiser/events/{event.slug}/registrations/{second_reg.id}/promote"
    client.post(promote)  # full: refused, with a message
    db.session.expire_all()
    assert db.session.get(Registration, second_reg.id).status == "waitlisted"

    registration.change_sessions(holder, [other.id], waitlist=False, now=now)
    db.session.commit()  # the freed seat went to the first in line automatically
    db.session.expire_all()
    assert {r.status for r in db.session.get(type(first), first.id).registrations} == {"confirmed"}
    # A seat added by hand can go to the second, out of turn.
    db.session.get(type(full), full.id).capacity = 2
    db.session.commit()
    response = client.post(promote, data={"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organiser/events/{event.slug}/waitlists")
    db.session.expire_all()
    assert db.session.get(Registration, second_reg.id).status == "confirmed"


def test_csv_downloads_open_in_excel_and_neutralise_formulas(client, signed_in, programme, now):
    event, plenary, full, other = programme
    sign_up(event, [plenary, full], "elise@example.org", now, name="Ëlise Müller")
    sign_up(
        event, [plenary, full], "evil@example.org", now, name="=cmd|' /C calc'!A0", waitlist_ok=True
    )
    signed_in("organiser")

    response = client.get(f"/organiser/events/{event.slug}/attendees.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(
        csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""), delimiter=";")
    )
    names = [row[1] for row in rows[1:]]
    assert names == ["'=cmd|' /C calc'!A0", "Ëlise Müller"]

    response = client.get(
        f"/organiser/events/{event.slug}/sessions/{full.id}/attendees.csv?delimiter=comma"
    )
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [
        ("Ëlise Müller", "confirmed", ""),
        ("'=cmd|' /C calc'!A0", "on the waiting list", "1"),
    ]
    exports = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("%.export"))
    ).all()
    assert sorted(exports) == ["attendees.export", "session.export"]
    missing = client.get(f"/organiser/events/{event.slug}/sessions/999999/attendees.csv")
    assert missing.status_code == 404


def test_xlsx_downloads_open_in_openpyxl_with_the_dutch_headers(client, signed_in, programme, now):
    event, plenary, full, other = programme
    sign_up(event, [plenary, full], "elise@example.org", now, name="Ëlise Müller")
    sign_up(
        event, [plenary, full], "evil@example.org", now, name="=cmd|' /C calc'!A0", waitlist_ok=True
    )
    signed_in("organiser")
    client.get("/lang/nl")

    response = client.get(f"/organiser/events/{event.slug}/attendees.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].endswith('-attendees.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Referentie", "Naam", "E-mail"]
    assert sorted(row[1] for row in rows[1:]) == ["=cmd|' /C calc'!A0", "Ëlise Müller"]
    assert sheet["B2"].data_type == "s" and sheet["B3"].data_type == "s"

    response = client.get(f"/organiser/events/{event.slug}/sessions/{full.id}/attendees.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    statuses = [row[4].value for row in sheet.iter_rows(min_row=2)]
    assert statuses == ["bevestigd", "op de wachtlijst"]
    assert client.get(f"/organiser/events/{event.slug}/attendees.pdf").status_code == 404


def test_dashboard_shows_sessions_chart_conflicts_and_failed_mail(
    client, signed_in, programme, now, make_session
):
    event, plenary, full, other = programme
    # A second session in the same room at the same time: a room conflict.
    make_session(event, start=1, capacity=1, title="Clashing workshop", room=full.room)
    ada = sign_up(event, [plenary, full], "ada@example.org", now)
    sign_up(event, [plenary, full], "bob@example.org", now, waitlist_ok=True)
    message = outbox.enqueue("confirmation", ada, {})
    message.status, message.last_error = "failed", "550 mailbox <ada@example.org> unknown"
    db.session.commit()
    signed_in("organiser")

    page = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)
    assert '<meter min="0" max="1" value="1"' in page  # the small workshop, full
    assert "Full" in page
    assert "<svg" in page and "<polyline" in page and "<rect" in page  # the chart
    assert "Clashing workshop" in page and "Blocking" in page
    assert "550 mailbox &lt;ada@example.org&gt; unknown" in page
    assert "<script" not in page.split("</main>")[0].split("<main")[1]


def test_dashboard_shows_plenary_and_workshop_fill_apart_without_the_public_footer(
    client, signed_in, programme, now
):
    event, plenary, full, other = programme
    event.organiser_email = "info@smartindustry.example"
    db.session.commit()
    sign_up(event, [plenary, full], "ada@example.org", now)
    signed_in("organiser")
    client.get("/lang/nl")

    page = client.get(f"/organiser/events/{event.slug}/").get_data(as_text=True)

    plenary_fill = page.split('id="plenary-fill"')[1].split("</li>")[0]
    workshop_fill = page.split('id="workshop-fill"')[1].split("</li>")[0]
    assert "1 / 100" in plenary_fill and "(1%)" in plenary_fill
    assert "1 / 11" in workshop_fill and "(9%)" in workshop_fill
    assert 'class="site-footer"' not in page  # the attendees' "Questions?" line
    assert "(organisator)" in page and "(organiser)" not in page  # the role in words


def test_organiser_home_shows_the_only_event_or_the_list(client, signed_in, make_event):
    first = make_event(name="First event")
    signed_in("organiser")
    page = client.get("/organiser/").get_data(as_text=True)
    assert 'id="session-figures"' in page or "This event has no sessions yet" in page
    make_event(name="Second event")
    page = client.get("/organiser/").get_data(as_text=True)
    assert 'id="events"' in page and "First event" in page and "Second event" in page
    assert f"/organiser/events/{first.slug}/" in page


def test_attendees_and_registrations_of_another_event_are_not_found(
    client, signed_in, programme, make_event, make_session, now
):
    event, plenary, full, other = programme
    elsewhere = make_event()
    stranger = sign_up(elsewhere, [make_session(elsewhere)], "x@example.org", now)
    signed_in("organiser")
    base = f"/organiser/events/{event.slug}"
    assert client.get(f"{base}/attendees/{stranger.id}").status_code == 404
    assert client.post(f"{base}/attendees/{stranger.id}/cancel").status_code == 404
    reg = stranger.registrations[0]
    assert client.post(f"{base}/registrations/{reg.id}/promote").status_code == 404
    assert client.get("/organiser/events/no-such-event/attendees").status_code == 404
    db.session.expire_all()
    assert db.session.get(type(stranger), stranger.id).status == "active"


def test_the_room_hosts_list_prints_with_its_session_and_readable_columns(
    client, signed_in, programme, now
):
    """Issue 20: "XLSX, to print for the room host" printed pages that did not say which
    session they list, cut the email addresses off at Excel's default column width, and lost
    the header row after the first page."""
    event, plenary, full, other = programme
    long_address = "m.vanoldenbarnevelt@provincie-zuid-holland.example"
    sign_up(event, [plenary, full], long_address, now, name="Marie-Louise van Oldenbarnevelt")
    signed_in("organiser")
    response = client.get(f"/organiser/events/{event.slug}/sessions/{full.id}/attendees.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    header = sheet.oddHeader.center.text or ""
    assert "Small workshop" in header and "Studio" in header
    assert event.local(full.starts_at).strftime("%H:%M") in header
    assert sheet.print_title_rows in ("1:1", "$1:$1")  # the header row on every page
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}
    assert widths["Email"] >= len(long_address)
    assert widths["Name"] >= len("Marie-Louise van Oldenbarnevelt")
