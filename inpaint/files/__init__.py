"""A job's files, in one place: where each is stored (``names``), reading the sources the engines paint from
(``sources``), the files made from them on request (``derived``), opening one for a page or the server's own
use (``serving``), and deleting them all with the job (``deletion``). Storing finished images stays with the
results step (inpaint.services.results), which writes through these names.

Nothing is imported here: inpaint.models imports ``names`` for its upload_to functions, and the other modules
import the models, so loading this package must not load them.
"""
