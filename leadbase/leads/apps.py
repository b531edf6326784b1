from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadbase.leads"
    label = "leads"
    verbose_name = "Leads"
