from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete


class InpaintConfig(AppConfig):
    name = "inpaint"
    verbose_name = "Inpaint Studio"

    def ready(self) -> None:
        # Django's documented place to connect signal receivers, once the models are loaded; every receiver of
        # the app is connected here, by name, so none depends on a module being imported for its side effect.
        from inpaint.files import deletion
        from inpaint.models import InpaintJob, JobResult
        from inpaint.services import owners

        # A signal rather than a call where the app deletes a job: jobs also go in the admin (a queryset delete),
        # in the shell, and by cascade with their owner's account, none of which passes through the app's code.
        post_delete.connect(deletion.job_deleted, sender=InpaintJob, dispatch_uid="inpaint.job_files_delete")
        post_delete.connect(deletion.result_deleted, sender=JobResult, dispatch_uid="inpaint.result_files_delete")
        user_logged_in.connect(owners.jobs_move_to_account, dispatch_uid="inpaint.jobs_move_to_account")
