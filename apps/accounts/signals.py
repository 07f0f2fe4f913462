"""What accounts announces to the apps above it, so it never imports them.

accounts is the bottom domain app (relations, groups and messaging use its users); the
one thing it hands upward is a changed profile, whose friends' push belongs to relations
(:func:`apps.relations.services.friend_info_changed`, connected in
:class:`apps.relations.apps.RelationsConfig`). Sent inside the transaction of
:func:`apps.accounts.services.user_update`; receivers schedule their side effects after commit.
"""

from __future__ import annotations

from django.dispatch import Signal

# keyword arguments: user (the saved User), fields (the names of the profile fields that changed)
user_profile_changed = Signal()
