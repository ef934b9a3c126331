"""Forms: they read what the user typed, refuse bad input next to the field, and hand plain
input values to the actions (which check again: the actions are the one write path)."""
