"""Signals other parts listen to."""

from django.dispatch import Signal

# Sent after commit when a user's roles changed or they left a team: what they may read
# may be less than before. Argument: user_id. (The edge stops their preview cookies.)
user_access_changed = Signal()
