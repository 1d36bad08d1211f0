"""Human names of the clinics package's statuses and equipment kinds, in the request's language."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    # workstations
    "active": _l("active"),
    "out_of_service": _l("out of service"),
    "retired": _l("retired"),
    # equipment
    "in_service": _l("in service"),
    "broken": _l("broken"),
    "in_repair": _l("in repair"),
    # problem reports
    "open": _l("open"),
    "in_progress": _l("in progress"),
    "resolved": _l("resolved"),
}

KIND_LABELS = {
    "computer": _l("computer"),
    "monitor": _l("monitor"),
    "projector": _l("projector"),
    "screen": _l("projection screen"),
    "printer": _l("printer"),
    "scanner": _l("scanner"),
    "webcam": _l("webcam"),
    "headset": _l("headset"),
    "speakers": _l("speakers"),
    "microphone": _l("microphone"),
    "interactive_whiteboard": _l("interactive whiteboard"),
    "router": _l("router"),
    "other": _l("other"),
}


def status_label(status):
    return STATUS_LABELS.get(status, status)


def kind_label(kind):
    return KIND_LABELS.get(kind, kind)
