from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadbase.accounts"
    label = "accounts"
    verbose_name = "Accounts"
