"""The scoring section of the UI, at /scoring/ (namespace `scoring`)."""

from django.urls import path

from . import views, views_jobs, views_leads, views_models

app_name = "scoring"
urlpatterns = [
    path("", views.rule_set_list, name="rule-sets"),
    path("new/", views.rule_set_new, name="rule-set-new"),
    path("v<int:version>/", views.rule_set_detail, name="rule-set"),
    path("v<int:version>/preview/", views.rule_set_preview, name="rule-set-preview"),
    path("v<int:version>/publish/", views.rule_set_publish, name="rule-set-publish"),
    path("v<int:version>/delete/", views.rule_set_delete, name="rule-set-delete"),
    path("jobs/<int:job_id>/", views_jobs.job_detail, name="job"),
    path("jobs/<int:job_id>/progress/", views_jobs.job_progress, name="job-progress"),
    path("leads/<int:lead_id>/", views_leads.lead_score_page, name="lead-score"),
    path("leads/<int:lead_id>/card/", views_leads.lead_score_card, name="lead-card"),
    path("models/", views_models.model_list, name="models"),
    path("models/train/", views_models.model_train, name="model-train"),
    path("models/v<int:version>/", views_models.model_detail, name="model"),
    path("models/v<int:version>/progress/", views_models.model_progress, name="model-progress"),
    path(
        "models/v<int:version>/activate/", views_models.model_activate_view, name="model-activate"
    ),
]
