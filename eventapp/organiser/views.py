"""The organiser's side. Being built in the organiser issue."""
