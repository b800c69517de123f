from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access, services
from rapport.accounts.forms import LoginForm, PreferencesForm, TeamForm, UserForm
from rapport.accounts.models import Role, Team, User
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


@login_required
def profile(request: RapportRequest) -> HttpResponse:
    user = request.user
    form = PreferencesForm(request.POST or None, initial={"language": user.language, "time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        services.user_set_preferences(user=user, **form.cleaned_data)
        messages.success(request, _("Your preferences have been saved."))
        response = redirect("accounts:profile")
        _remember_language(response, user.language)
        return response
    status = 422 if form.errors else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)


@require_POST
def set_language(request: RapportRequest) -> HttpResponse:
    """The language switcher: remembered in a cookie, and on the profile of a signed-in user."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = reverse("core:home")
    response = HttpResponseRedirect(next_url)
    if language and check_for_language(language):
        if request.user.is_authenticated:
            services.user_set_preferences(user=request.user, language=language, time_zone=request.user.time_zone)
        _remember_language(response, language)
    return response


def _remember_language(response: HttpResponse, language: str) -> None:
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.LANGUAGE_COOKIE_SECURE,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)


def _require_user_admin(request: RapportRequest) -> None:
    if not access.can_manage_users(request.user):
        raise PermissionDenied


@login_required
def user_list(request: RapportRequest) -> HttpResponse:
    _require_user_admin(request)
    users = User.objects.select_related("team").order_by("-is_active", "first_name", "last_name", "username")
    return render(request, "accounts/user_list.html", {"users": users, "roles": Role})


@login_required
def user_create(request: RapportRequest) -> HttpResponse:
    _require_user_admin(request)
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                team=data["team"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s can now sign in after setting a password through “Forgot your password?”.")
                % {"name": user.display_name},
            )
            return redirect("accounts:user-list")
    status = 422 if form.errors else 200
    return render(request, "accounts/user_form.html", {"form": form, "editing": None}, status=status)


@login_required
def user_edit(request: RapportRequest, user_id: int) -> HttpResponse:
    editing = access.user_for_admin(request.user, user_id)
    initial = {
        "username": editing.username,
        "first_name": editing.first_name,
        "last_name": editing.last_name,
        "email": editing.email,
        "role": editing.role,
        "team": editing.team,
        "is_active": editing.is_active,
    }
    form = UserForm(request.POST or None, initial=initial, editing=editing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                user=editing,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                team=data["team"],
                is_active=data["is_active"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(name)s has been saved.") % {"name": editing.display_name})
            return redirect("accounts:user-list")
    status = 422 if form.errors else 200
    return render(request, "accounts/user_form.html", {"form": form, "editing": editing}, status=status)


@login_required
def team_list(request: RapportRequest) -> HttpResponse:
    _require_user_admin(request)
    teams = Team.objects.select_related("head").prefetch_related("members").order_by("name")
    return render(request, "accounts/team_list.html", {"teams": teams})


@login_required
def team_create(request: RapportRequest) -> HttpResponse:
    _require_user_admin(request)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(**form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Team %(name)s has been created.") % {"name": team.name})
            return redirect("accounts:team-list")
    status = 422 if form.errors else 200
    return render(request, "accounts/team_form.html", {"form": form, "team": None}, status=status)


@login_required
def team_edit(request: RapportRequest, team_id: int) -> HttpResponse:
    team = access.team_for_admin(request.user, team_id)
    form = TeamForm(request.POST or None, initial={"name": team.name, "head": team.head})
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(team=team, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Team %(name)s has been saved.") % {"name": team.name})
            return redirect("accounts:team-list")
    status = 422 if form.errors else 200
    return render(request, "accounts/team_form.html", {"form": form, "team": team}, status=status)
