from __future__ import annotations

import functools
from typing import Any

from django import forms, template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.utils.html import format_html

from rapport.core import navigation

register = template.Library()

ICON_SPRITE = "vendor/tabler-icons/sprite.svg"


@functools.cache
def _sprite_url() -> str:
    # Looked up in the static files manifest once, not for each of the dozens of icons on a page.
    return static(ICON_SPRITE)


@receiver(setting_changed)
def _forget_sprite_url(*, setting: str, **kwargs: Any) -> None:
    if setting in {"STATIC_URL", "STORAGES"}:
        _sprite_url.cache_clear()


@register.simple_tag
def fixed_url(url_name: str) -> str:
    """``{% url %}`` for a view without arguments, reversed once per process: the shell has a dozen per page."""
    return navigation.fixed_url(url_name)


@register.simple_tag
def icon(name: str, css: str = "") -> str:
    """A Tabler icon from the vendored sprite (the name must be listed in vendor/icons.txt)."""
    return format_html(
        '<svg class="icon {}" aria-hidden="true" focusable="false"><use href="{}#tabler-{}"></use></svg>',
        css,
        _sprite_url(),
        name,
    )


def _widget_class(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    return f"{css} is-invalid" if field.errors else css


@register.inclusion_tag("components/field.html")
def field_row(field: forms.BoundField, **attrs: Any) -> dict[str, Any]:
    """One form field in Tabler's markup: label, input, the error next to it, the hint."""
    widget_attrs = {"class": _widget_class(field), **attrs}
    if field.errors:
        widget_attrs["aria-invalid"] = "true"
        widget_attrs["aria-describedby"] = f"{field.auto_id}-error"
    return {
        "field": field,
        "widget": field.as_widget(attrs=widget_attrs),
        "is_checkbox": isinstance(field.field.widget, forms.CheckboxInput),
    }
