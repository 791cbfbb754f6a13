"""Refusals a caller must see. Each code maps to one HTTP status at intake (see ERROR_STATUS there)."""


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
