"""Priority groups in the database: the organiser creates, fills and removes them.

A group names one workshop of the event and its members, added by pasting their email
addresses; every change is all or nothing (an unknown address saves nothing) and goes into
the audit log. :func:`priorities_of` gives the solver what it needs (priority.py: the rule),
a dry run stores that with its inputs, and :func:`reports_of` reads the dry run's report back
with the members' names, for the organiser page and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    AllocationRun,
    Attendee,
    Event,
    EventSession,
    Organiser,
    PriorityGroup,
    PriorityGroupMember,
)
from .. import audit
from ..errors import InvalidInput, NotFound
from ..validation import NAME_MAX, FieldErrors, clean_text, database_id
from .preferences import ensure_still_open, rounds_of
from .priority import Priority, group_reports
from .problem import prepare

# One paste of addresses at most (a large hub, not a mailing list).
MEMBERS_MAX = 500


def groups_of(event: Event) -> list[PriorityGroup]:
    """The event's groups with their members, in the order they were made."""
    return list(
        db.session.scalars(
            select(PriorityGroup)
            .where(PriorityGroup.event_id == event.id)
            .options(
                selectinload(PriorityGroup.members).selectinload(PriorityGroupMember.attendee),
                selectinload(PriorityGroup.session),
            )
            .order_by(PriorityGroup.created_at, PriorityGroup.id)
        )
    )


def priorities_of(event: Event, workshop_ids: set[int]) -> list[Priority]:
    """The solver's view of the groups: those of workshops it allocates, members by id."""
    rows = db.session.execute(
        select(PriorityGroup.id, PriorityGroup.name, PriorityGroup.session_id)
        .where(PriorityGroup.event_id == event.id)
        .order_by(PriorityGroup.id)
    ).all()
    members: dict[int, list[int]] = {}
    for group_id, attendee_id in db.session.execute(
        select(PriorityGroupMember.group_id, PriorityGroupMember.attendee_id)
        .join(PriorityGroup, PriorityGroup.id == PriorityGroupMember.group_id)
        .where(PriorityGroup.event_id == event.id)
    ):
        members.setdefault(group_id, []).append(attendee_id)
    return [
        Priority(session_id, tuple(members.get(group_id, ())), group_id, name)
        for group_id, name, session_id in rows
        if session_id in workshop_ids
    ]


def members_by_name(group: PriorityGroup) -> list[PriorityGroupMember]:
    """The group's members as the organiser looks for them: by name, then email."""
    return sorted(
        group.members, key=lambda m: (m.attendee.name.casefold(), m.attendee.email_normalized)
    )


def not_applied_reason(group: PriorityGroup) -> str | None:
    """Why the allocation leaves the group out, or None when it honours it: the allocation
    assigns scheduled workshops only (rounds_of), so a group whose workshop was cancelled,
    or is no longer a workshop, would otherwise be ignored without a word."""
    session = group.session
    if session.status == "cancelled":
        return "cancelled"
    if session.kind != "workshop":
        return "not_a_workshop"
    return None


def not_applied(event: Event) -> list[dict]:
    """The groups a dry run leaves out and why, stored with its report so it says so."""
    return [
        {
            "group_id": group.id,
            "name": group.name,
            "workshop_id": group.session_id,
            "members": len(group.members),
            "reason": reason,
        }
        for group in groups_of(event)
        if (reason := not_applied_reason(group)) is not None
    ]


def workshop_choices(event: Event) -> list:
    """The sessions a group can be for: the workshops the allocation assigns."""
    return [s for r in rounds_of(event) for s in r.sessions]


def attendees_by_email(event: Event, text: object, errors: FieldErrors) -> list[Attendee]:
    """The event's active attendees the pasted addresses name, one per line (blank lines
    skipped, repeats once). Every unknown address is reported in ``errors``, by itself."""
    if not isinstance(text, str):
        errors.add("emails", _("Must be text."))
        return []
    addresses = list(dict.fromkeys(line.strip().lower() for line in text.splitlines()))
    addresses = [a for a in addresses if a]
    if not addresses:
        errors.add("emails", _("Paste at least one email address, one per line."))
        return []
    if len(addresses) > MEMBERS_MAX:
        errors.add(
            "emails",
            ngettext(
                "At most %(num)d address at a time.",
                "At most %(num)d addresses at a time.",
                MEMBERS_MAX,
            ),
        )
        return []
    found = {
        a.email_normalized: a
        for a in db.session.scalars(
            select(Attendee).where(
                Attendee.event_id == event.id,
                Attendee.status == "active",
                Attendee.email_normalized.in_(addresses),
            )
        )
    }
    unknown = [a for a in addresses if a not in found]
    if unknown:
        errors.add(
            "emails",
            ngettext(
                "Not registered for this event: %(addresses)s",
                "%(num)d addresses are not registered for this event: %(addresses)s",
                len(unknown),
                addresses=", ".join(unknown[:50]) + (" …" if len(unknown) > 50 else ""),
            ),
        )
    return [found[a] for a in addresses if a in found]


def _raise(errors: FieldErrors) -> None:
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), dict(errors))


def create_group(
    event: Event, actor: Organiser | None, *, session_id: object, name: object, emails: object, now
) -> PriorityGroup:
    """A new group for one workshop with its first members; nothing is saved on any error."""
    ensure_still_open(event)
    errors = FieldErrors()
    name = clean_text(name, "name", errors, max_length=NAME_MAX, required=True)
    sessions = {s.id: s for s in workshop_choices(event)}
    session = sessions.get(database_id(session_id))
    if session is None:
        errors.add("session_id", _("Choose one of the event's workshops."))
    attendees = attendees_by_email(event, emails, errors)
    _raise(errors)
    group = PriorityGroup(event_id=event.id, session=session, name=name, created_at=now)
    group.members = [PriorityGroupMember(attendee=a) for a in attendees]
    db.session.add(group)
    db.session.flush()
    audit.record(
        actor,
        "priority_group.created",
        group,
        after={"name": name, "session_id": session.id, "members": [a.email for a in attendees]},
        event=event,
        session=session,
        now=now,
    )
    return group


def get_group(event: Event, group_id: object) -> PriorityGroup:
    group = db.session.get(PriorityGroup, database_id(group_id) or 0)
    if group is None or group.event_id != event.id:
        raise NotFound(_("No such priority group."))
    return group


def add_members(
    event: Event, actor: Organiser | None, group_id: object, *, emails: object, now
) -> int:
    """Adds the pasted attendees to the group (those already in it are skipped); returns how
    many were added. Nothing is added if any address is unknown."""
    ensure_still_open(event)
    group = get_group(event, group_id)
    errors = FieldErrors()
    attendees = attendees_by_email(event, emails, errors)
    _raise(errors)
    present = {m.attendee_id for m in group.members}
    new = [a for a in attendees if a.id not in present]
    group.members.extend(PriorityGroupMember(attendee=a) for a in new)
    db.session.flush()
    if new:
        audit.record(
            actor,
            "priority_group.members_added",
            group,
            after={"name": group.name, "members": [a.email for a in new]},
            event=event,
            session=group.session,
            now=now,
        )
    return len(new)


def remove_member(
    event: Event, actor: Organiser | None, group_id: object, attendee_id: object, *, now
) -> Attendee:
    """Takes one attendee out of the group (the rest of it stays); returns them."""
    ensure_still_open(event)
    group = get_group(event, group_id)
    wanted = database_id(attendee_id)
    member = next((m for m in group.members if m.attendee_id == wanted), None)
    if member is None:
        raise NotFound(_("No such member in this priority group."))
    audit.record(
        actor,
        "priority_group.member_removed",
        group,
        before={"name": group.name, "members": [member.attendee.email]},
        event=event,
        session=group.session,
        attendee=member.attendee,
        now=now,
    )
    group.members.remove(member)
    db.session.flush()
    return member.attendee


def delete_group(event: Event, actor: Organiser | None, group_id: object, *, now) -> None:
    ensure_still_open(event)
    group = get_group(event, group_id)
    audit.record(
        actor,
        "priority_group.deleted",
        group,
        before={
            "name": group.name,
            "session_id": group.session_id,
            "members": [m.attendee.email for m in group.members],
        },
        event=event,
        session=group.session,
        now=now,
    )
    db.session.delete(group)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# The dry run's report, with names
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    name: str
    email: str
    reason: str


@dataclass(frozen=True)
class GroupLine:
    name: str
    workshop: str
    seats: int
    members: int
    ranked: int
    got: int
    missed: list[MemberLine]
    not_applied: str = ""  # why the run left the group out (labels: priority_not_applied)


def priority_report(inputs, assignments) -> list[dict]:
    """Per group of the run's inputs (inputs.SolverInputs), per member: got the workshop, or
    why not; stored with the run's result."""
    if not inputs.priority:
        return []
    problem = prepare(inputs.workshops, inputs.rankings, inputs.held, inputs.priority)
    round_of = {w.id: w.round_key for w in inputs.workshops}
    reports = group_reports(
        inputs.priority,
        problem.workshops,
        {(r.attendee_id, r.round_key): r.choices for r in inputs.rankings},
        problem.priority,
        problem.pairs,
        assignments,
        {(h.attendee_id, round_of[h.session_id]) for h in inputs.held if h.session_id in round_of},
    )
    return [r.to_dict() for r in reports]


def reports_of(run: AllocationRun) -> list[GroupLine]:
    """The run's stored report per group, with the members' names as they are now (a member
    erased since shows as "#id"), then the groups it left out, with why."""
    reports = run.result.get("priority") or []
    skipped = run.result.get("priority_not_applied") or []
    if not reports and not skipped:
        return []
    from_ids = {m["attendee_id"] for r in reports for m in r["members"]}
    people = {
        a.id: a for a in db.session.scalars(select(Attendee).where(Attendee.id.in_(from_ids)))
    }
    sessions = _session_titles({r["workshop_id"] for r in (*reports, *skipped)})
    lines = []
    for r in reports:
        members = r["members"]
        missed = [
            MemberLine(
                people[m["attendee_id"]].name if m["attendee_id"] in people else "",
                people[m["attendee_id"]].email
                if m["attendee_id"] in people
                else f"#{m['attendee_id']}",
                m["reason"],
            )
            for m in members
            if m["reason"] != "got"
        ]
        lines.append(
            GroupLine(
                name=r["name"],
                workshop=sessions.get(r["workshop_id"], f"#{r['workshop_id']}"),
                seats=r["seats"],
                members=len(members),
                ranked=sum(bool(m.get("ranked")) for m in members),
                got=sum(m["reason"] == "got" for m in members),
                missed=missed,
            )
        )
    lines += [
        GroupLine(
            name=r["name"],
            workshop=sessions.get(r["workshop_id"], f"#{r['workshop_id']}"),
            seats=0,
            members=r["members"],
            ranked=0,
            got=0,
            missed=[],
            not_applied=r["reason"],
        )
        for r in skipped
    ]
    return lines


def _session_titles(ids: set[int]) -> dict[int, str]:
    return {
        s.id: s.title
        for s in db.session.scalars(select(EventSession).where(EventSession.id.in_(ids)))
    }
