"""Claims: built from signed notes, scrubbed, moved through their life, one event per move."""
