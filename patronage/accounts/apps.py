from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "patronage.accounts"
    label = "accounts"
    verbose_name = "User records"

    def ready(self) -> None:
        from patronage import bulk  # noqa: F401 (registers the ``any_of`` lookup)
