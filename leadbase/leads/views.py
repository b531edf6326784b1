from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("lead list")


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    return HttpResponse("lead")
