"""The organiser's priority groups page: roles, CSRF, bad input without a 500, unknown
addresses named with nothing saved, and the dry run's report on the allocation page."""

import re

import pytest
from sqlalchemy import func, select

from eventapp.extensions import db
from eventapp.models import Attendee, AuditEntry, EventSession, PriorityGroup, PriorityGroupMember
from eventapp.services.allocation import runs as allocation
from eventapp.services.programme import schedule
from tests.allocation_support import preference_event


@pytest.fixture
def event(make_event, make_session, now):
    return preference_event(
        make_event, make_session, now, people=4, workshops={"Robots": 1, "Sensors": 4}
    )


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def robots() -> int:
    return db.session.scalar(select(EventSession.id).where(EventSession.title == "Robots"))


def groups_count() -> int:
    return db.session.scalar(select(func.count()).select_from(PriorityGroup))


def test_roles(client, login, make_organiser, event):
    url = f"/organiser/events/{event.slug}/allocation/priority"
    assert client.get(url).status_code == 302  # to the login page
    login(make_organiser("checkin"))
    assert client.get(url).status_code == 403
    data = {"name": "x", "session_id": str(robots()), "emails": "p0@example.org"}
    assert client.post(url, data=data).status_code == 403
    assert client.post(url + "/1/members", data={"g1-emails": "p0@example.org"}).status_code == 403
    assert client.post(url + "/1/delete").status_code == 403
    assert client.post(url + "/1/members/1/remove").status_code == 403
    assert groups_count() == 0


def test_create_add_and_remove_a_group(client, login, make_organiser, event, english):
    login(make_organiser("organiser"))
    allocation_page = client.get(f"/organiser/events/{event.slug}/allocation").get_data(
        as_text=True
    )
    assert 'id="priority-groups-link"' in allocation_page
    url = f"/organiser/events/{event.slug}/allocation/priority"
    page = client.get(url).get_data(as_text=True)
    assert "No priority groups yet." in page and f'<option value="{robots()}">Robots' in page

    made = client.post(
        url, data={"name": "Guests", "session_id": str(robots()), "emails": "p0@example.org\n"}
    )
    assert made.status_code == 303
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "Priority group “Guests” saved with 1 member." in page
    group = db.session.scalar(select(PriorityGroup))
    added = client.post(
        f"{url}/{group.id}/members", data={f"g{group.id}-emails": "p1@example.org\np0@example.org"}
    )
    assert added.status_code == 303
    assert "1 member added." in client.get(added.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PriorityGroupMember)) == 2

    # The dry run reports the group: one seat, two members who ranked it.
    ran = client.post(f"/organiser/events/{event.slug}/allocation/dry-run", data={"seed": "2"})
    page = client.get(ran.headers["Location"]).get_data(as_text=True)
    row = re.search(r'<tr class="priority-report">(.*?)</tr>', page, re.S).group(1)
    assert "Guests" in row and "Robots" in row
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "2", "2", "1"]
    assert "more members ranked it than it has seats" in page

    removed = client.post(f"{url}/{group.id}/delete")
    assert removed.status_code == 303
    assert groups_count() == 0
    assert "Priority group removed." in client.get(removed.headers["Location"]).get_data(
        as_text=True
    )


def test_the_report_speaks_dutch(client, login, make_organiser, event):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    client.post(
        url, data={"name": "Gasten", "session_id": str(robots()), "emails": "p0@example.org"}
    )
    page = client.get(url).get_data(as_text=True)
    assert "Voorranggroepen" in page
    ran = client.post(f"/organiser/events/{event.slug}/allocation/dry-run", data={"seed": "2"})
    page = client.get(ran.headers["Location"]).get_data(as_text=True)
    assert "Kregen hem" in page and "Voorranggroepen" in page


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "Hub", "emails": "p0@example.org\nghost@example.org"}, "ghost@example.org"),
        ({"name": "Hub", "emails": "not-an-email"}, "not-an-email"),
        ({"name": "", "emails": "p0@example.org"}, "This field is required."),
        ({"name": "Hub", "emails": ""}, "Paste at least one email address"),
        ({"name": "Hub", "emails": "p0@example.org", "session_id": "99999"}, "Choose one of"),
        ({"name": "Hub", "emails": "p0@example.org", "session_id": "x\x00"}, "Choose one of"),
        ({"name": "x" * 300, "emails": "p0@example.org"}, "At most 200 characters."),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_saves_nothing(
    client, login, make_organiser, event, english, data, expected
):
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    response = client.post(url, data={"session_id": str(robots()), **data})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert expected in page
    assert data["emails"].split("\n")[0] in page  # what they pasted is still there
    assert groups_count() == 0


def test_bad_member_paste_and_unknown_group(client, login, make_organiser, event, english):
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    client.post(url, data={"name": "Hub", "session_id": str(robots()), "emails": "p0@example.org"})
    group = db.session.scalar(select(PriorityGroup))
    refused = client.post(
        f"{url}/{group.id}/members",
        data={f"g{group.id}-emails": "p1@example.org\nghost@example.org"},
    )
    assert refused.status_code == 422
    assert "Not registered for this event: ghost@example.org" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PriorityGroupMember)) == 1
    missing = client.post(f"{url}/999/members", data={"g999-emails": "p1@example.org"})
    assert missing.status_code == 404
    assert client.post(f"{url}/999/delete").status_code == 404


def test_changes_need_a_csrf_token(app, client, login, make_organiser, event):
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    client.post(url, data={"name": "Hub", "session_id": str(robots()), "emails": "p0@example.org"})
    group = db.session.scalar(select(PriorityGroup))
    app.config["WTF_CSRF_ENABLED"] = True
    made = client.post(
        url, data={"name": "Hub2", "session_id": str(robots()), "emails": "p1@example.org"}
    )
    assert made.status_code in (400, 422)
    client.post(f"{url}/{group.id}/delete")
    client.post(f"{url}/{group.id}/members", data={f"g{group.id}-emails": "p1@example.org"})
    client.post(f"{url}/{group.id}/members/{group.members[0].attendee_id}/remove")
    assert groups_count() == 1
    assert db.session.scalar(select(func.count()).select_from(PriorityGroupMember)) == 1


def test_the_audit_log_reads_the_changes(client, login, make_organiser, event, english):
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    client.post(url, data={"name": "Hub", "session_id": str(robots()), "emails": "p0@example.org"})
    group = db.session.scalar(select(PriorityGroup))
    client.post(f"{url}/{group.id}/delete")
    page = client.get(f"/organiser/events/{event.slug}/audit").get_data(as_text=True)
    assert "Priority group created" in page and "Priority group removed" in page
    assert "p0@example.org" in page


def members_of(page: str) -> list[str]:
    """The members' rows of the page's group tables, as "name email"."""
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", page)
    return [f"{name} {email}" for name, email in rows]


def attendee_id(email: str) -> int:
    return db.session.scalar(select(Attendee.id).where(Attendee.email == email))


def test_members_are_shown_sorted_with_the_count_and_one_is_removed(
    client, login, make_organiser, event, english
):
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    db.session.get(Attendee, attendee_id("p3@example.org")).name = "Anna"
    db.session.commit()
    client.post(
        url,
        data={
            "name": "Hub",
            "session_id": str(robots()),
            "emails": "p2@example.org\np0@example.org\np3@example.org",
        },
    )
    group = db.session.scalar(select(PriorityGroup))
    page = client.get(url).get_data(as_text=True)
    assert '<p class="priority-count">3 members</p>' in page
    assert members_of(page) == ["Anna p3@example.org", "P0 p0@example.org", "P2 p2@example.org"]
    p0 = attendee_id("p0@example.org")
    remove = f"{url}/{group.id}/members/{p0}/remove"
    assert f'action="{remove}"' in page
    assert page.count('<span class="visually-hidden">: P0</span>') == 1

    removed = client.post(remove)
    assert removed.status_code == 303
    page = client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "P0 removed from the priority group." in page
    assert members_of(page) == ["Anna p3@example.org", "P2 p2@example.org"]
    assert '<p class="priority-count">2 members</p>' in page
    assert groups_count() == 1

    again = client.post(remove)  # a second click, or another tab
    assert again.status_code == 303
    assert "No such member in this priority group." in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/999/members/{p0}/remove").status_code == 404

    audit = client.get(f"/organiser/events/{event.slug}/audit").get_data(as_text=True)
    assert "Member removed from a priority group" in audit
    assert (
        db.session.scalar(
            select(AuditEntry.attendee_id).where(
                AuditEntry.action == "priority_group.member_removed"
            )
        )
        == p0
    )


def test_no_member_is_removed_once_the_allocation_is_published(
    client, login, make_organiser, event, now, english
):
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    client.post(url, data={"name": "Hub", "session_id": str(robots()), "emails": "p0@example.org"})
    group = db.session.scalar(select(PriorityGroup))
    allocation.publish(event, allocation.dry_run(event, 1, now=now), now=now)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert members_of(page) == ["P0 p0@example.org"] and "/remove" not in page
    refused = client.post(f"{url}/{group.id}/members/{attendee_id('p0@example.org')}/remove")
    assert refused.status_code == 303
    flashed = (
        '<p class="flash flash-error">The allocation of this event has already been published.'
    )
    assert flashed in client.get(url).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(PriorityGroupMember)) == 1


@pytest.mark.parametrize(
    ("language", "notice"),
    [
        ("en", "This workshop is cancelled: the group is not applied."),
        ("nl", "Deze workshop is geannuleerd: de groep telt niet mee."),
    ],
)
def test_a_cancelled_workshops_group_says_it_is_not_applied(
    client, login, make_organiser, event, now, language, notice
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(make_organiser("organiser"))
    url = f"/organiser/events/{event.slug}/allocation/priority"
    client.post(url, data={"name": "Hub", "session_id": str(robots()), "emails": "p0@example.org"})
    assert notice not in client.get(url).get_data(as_text=True)
    schedule.cancel_session(None, db.session.get(EventSession, robots()), now)
    db.session.commit()

    page = client.get(url).get_data(as_text=True)
    assert f'<p class="notice notice-warning priority-not-applied">{notice}</p>' in page
    ran = client.post(f"/organiser/events/{event.slug}/allocation/dry-run", data={"seed": "2"})
    page = client.get(ran.headers["Location"]).get_data(as_text=True)
    row = re.search(r'<tr class="priority-not-applied">(.*?)</tr>', page, re.S).group(1)
    assert "Hub" in row and "Robots" in row and notice in row
