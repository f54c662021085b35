from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "patronage.accounts"
    label = "accounts"
    verbose_name = "User records"
