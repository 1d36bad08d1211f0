"""What the clinics package announces to the packages above it (booking, training, auth).

The clinics package knows nothing of bookings, trainings or sign-in sessions;
the packages that keep them connect receivers in their own init_app.
Receivers run inside the caller's transaction and only flush.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Workstation; kwargs: actor, now. It stopped being bookable: a receiver returns
# (moved, cancelled) — the future bookings it moved to another workstation or cancelled (booking rule 8).
workstation_left_service = _signals.signal("workstation-left-service")

# sender: the Room; kwargs: actor, now. The room takes nothing new: its future bookings and
# trainings end, with a notice to each person affected.
room_withdrawn = _signals.signal("room-withdrawn")

# sender: the Clinic; kwargs: actor, now. Its people can no longer sign in.
clinic_deactivated = _signals.signal("clinic-deactivated")

# A closure is about to be added: send(room, start=…, end=…, reason=…, actor=…, now=…, cancel=False|True).
# A receiver first takes the room's lock, so nothing it does not see can be added meanwhile, then returns
# the active things of its own kind the closure would cover, each as a JSON-ready dict with its "kind";
# with cancel=True it also cancels them and tells the people concerned.
closure_planned = _signals.signal("closure-planned")
