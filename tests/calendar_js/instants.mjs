// Reads one iCalendar object on stdin; prints each VEVENT's UID, SUMMARY, DESCRIPTION,
// LOCATION and its start and end as UTC instants, as ical.js (Thunderbird's parser) reads
// them once the file's own VTIMEZONEs are registered. Used by tests/calendar_parsers.py.
import ICAL from "ical.js";
import { readFileSync } from "node:fs";

const text = readFileSync(0, "utf8");
const root = new ICAL.Component(ICAL.parse(text));
for (const zone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(zone));
}
const utc = (time) => (time ? time.convertToZone(ICAL.Timezone.utcTimezone).toString() : null);
const out = root.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    start: utc(event.startDate),
    end: utc(event.endDate),
  };
});
process.stdout.write(JSON.stringify({ name: root.getFirstPropertyValue("name"), events: out }));
