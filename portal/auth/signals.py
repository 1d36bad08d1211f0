"""What the auth package announces to the packages above it.

Receivers run inside the caller's transaction and only flush.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the User, whose clinic_id is already the new one; kwargs: previous_clinic_id, now.
# The booking package cancels the user's future bookings in the previous clinic, with a notice.
user_moved_clinic = _signals.signal("user-moved-clinic")
