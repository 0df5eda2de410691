"""The waiting room of an event (docs/waiting-room.md): join, poll, admission, stats."""
