"""What the clinics package announces to the features built on it (they connect in their init_app)."""
from blinker import Namespace

signals = Namespace()

# A workstation stopped being bookable: send(workstation, actor=…, now=…); a receiver returns
# (moved, cancelled) — the future bookings it moved to another workstation or cancelled (booking rule 8).
workstation_left_service = signals.signal("workstation-left-service")
