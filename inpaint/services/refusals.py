"""What the person asked for that cannot be done now, said in plain words."""


class JobActionRefused(Exception):
    """An action the person asked for that cannot be done now; the message says why."""
