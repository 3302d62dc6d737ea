"""gunicorn's logger, with the signed-link tokens the cloud service fetches files with hidden in
the access log (`make run` and the deploy units pass --logger-class)."""

from gunicorn.glogging import Logger

from inpaint.reporting import link_tokens_hidden


class TokenHidingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = link_tokens_hidden(atoms[key])
        return atoms
