"""The organiser's work on people: attendees, check-in, dashboard figures, messages, exports,
accounts, and the demo event.
"""
