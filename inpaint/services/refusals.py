"""What the person asked for that cannot be done now, said in plain words."""


class JobActionRefused(Exception):
    """An action the person asked for that cannot be done now; the message says why."""


class JobRequestRefused(Exception):
    """A job post the server cannot take as it stands; ``errors`` maps each form field to what is wrong with it,
    so the page shows each message beside the field it is about."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors
