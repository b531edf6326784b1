from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "leadbase.scoring"
    label = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        # The periodic jobs, and the reaction to changed leads (leads.hooks).
        from leadbase.leads.hooks import on_leads_changed
        from leadbase.scoring import tasks

        on_leads_changed(tasks.leads_changed_handler)
