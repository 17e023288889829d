from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from membership import readiness
        from training import fees, roles
        from training import readiness as training_readiness

        post_migrate.connect(roles.grant_training_permissions, sender=self)
        readiness.register(training_readiness.certification_steps)
        fees.register()
