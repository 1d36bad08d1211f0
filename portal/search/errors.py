"""Errors of the search layer, each with a stable snake_case code.

The codes are what the API and the templates show (and translate); messages are
short English text for logs and for the UI's details. Neither ever contains a
request URL, because URLs may carry API keys.
"""


class UpstreamError(Exception):
    """One source could not deliver results.

    Codes:
      - ``timeout``: no complete answer within the time budget.
      - ``rate_limited``: the upstream answered 429, or our own request budget
        for it (NCBI etiquette) is used up until after the deadline.
      - ``upstream_unavailable``: 5xx, refused or broken connection.
      - ``upstream_error``: the upstream reported an error (4xx, or an error
        inside an HTTP 200, e.g. NCBI's ``ERROR``).
      - ``bad_response``: malformed or unexpected body (HTML where JSON was
        expected, missing envelope fields, refused redirect).
      - ``too_large``: the body exceeds the byte cap.
      - ``unsupported_filter``: the source cannot apply a requested filter.
      - ``internal_error``: a bug on our side while handling the source.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class QueryError(ValueError):
    """The search request itself is invalid (the API answers 400).

    Codes: ``invalid_query`` (q), ``unknown_source`` (sources=),
    ``invalid_parameter`` (paging, years, identifiers).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}
