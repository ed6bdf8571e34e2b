from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = "部门筛查预警"

    def ready(self) -> None:
        # Register the tasks in every process (web, command, worker): services send them by
        # name and never import the tasks module, which imports the services.
        from . import tasks  # noqa: F401
