from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "patronage.access"
    label = "access"
    verbose_name = "Roles and permissions"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import remember_epoch

        # Every sign-in, force_login included, remembers the epoch its session began under.
        user_logged_in.connect(remember_epoch, dispatch_uid="patronage.access.remember_epoch")
