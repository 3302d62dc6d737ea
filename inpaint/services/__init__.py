"""Business logic of Inpaint Studio, one module per concept.

- ``jobs``: creating and cancelling a job.
- ``submission``: the submit step: the work region, admission, the one paid create call, offline fills.
- ``polling``: the poll step: one status query, the deadline, SUSPENDED, finished tasks.
- ``recovery``: settling a submission whose outcome is unknown, and the periodic sweep.
- ``results``: downloading, pasting back and storing finished images.
- ``downloads``: fetching a result link safely (hosts, redirects, byte cap, total time).
- ``admission``: the account's rate and running limits, shared by every worker.
- ``scheduling``: a job's one live chain of steps: tokens, due times, leases, handing steps to Celery.
- ``states``: every status change, checked against ``InpaintJob.TRANSITIONS``.
- ``selectors``: reads for the page (a visitor's jobs, queue position, estimates).
- ``usage``: images billed and the monthly cap.
- ``links``: signed, expiring links through which the cloud service fetches a file.

Each step returns the next ``Step``s; the Celery tasks in ``inpaint.tasks`` only load the
job, call a step and hand what it returns to ``scheduling.steps_dispatch``.
"""
