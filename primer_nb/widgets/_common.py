"""Small pieces the forms share: labelled fields, inline errors, safe callbacks."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import ipywidgets as widgets

if TYPE_CHECKING:
    from primer_nb.api.errors import PrimerAPIError

__all__ = ["ErrorText", "Looks", "QuietValue", "api_failure", "breakable", "labelled", "safe_callback"]

logger = logging.getLogger("primer_nb.widgets")
_Func = TypeVar("_Func", bound=Callable[..., Any])
_Widget = TypeVar("_Widget", bound=widgets.DOMWidget)


class Looks:
    """The Layouts and styles one form's widgets share.

    Left alone, every widget makes a Layout model of its own and most make a
    style model too; in a kernel each is a comm opened and synced to the front
    end, two or three models per visible widget. Sharing them, as ipywidgets'
    documentation does with layouts, more than halves a form's models. The forms
    never change a layout or style once built, so sharing changes nothing on screen.
    """

    def __init__(self) -> None:
        self._layouts: dict[tuple[tuple[str, str], ...], widgets.Layout] = {}
        self._styles: dict[type, widgets.Widget] = {}

    def layout(self, **attributes: str) -> widgets.Layout:
        """The shared Layout with these attributes (``width="90px"``, …)."""
        key = tuple(sorted(attributes.items()))
        if key not in self._layouts:
            self._layouts[key] = widgets.Layout(**attributes)
        return self._layouts[key]

    def make(
        self, widget_class: type[_Widget], *, layout: Mapping[str, str] | None = None, **kwargs: Any
    ) -> _Widget:
        """``widget_class(**kwargs)`` with the shared layout (and style, if the class has one)."""
        shared: dict[str, Any] = {"layout": self.layout(**(layout or {}))}
        style_class = _style_class(widget_class)  # type: ignore[arg-type]  # classes hash; typeshed's TypeVar does not say so
        if style_class is not None:
            if style_class not in self._styles:
                self._styles[style_class] = style_class()
            shared["style"] = self._styles[style_class]
        return widget_class(**shared, **kwargs)


@functools.cache
def _style_class(widget_class: type[widgets.DOMWidget]) -> type | None:
    # class_traits() walks the whole class each call: look each class up once.
    trait = widget_class.class_traits().get("style")
    return None if trait is None else trait.klass


class ErrorText(widgets.HTML):
    """An inline error message next to a field; empty (and invisible) when there is none."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("primer-nb-error")

    def show(self, messages: str | list[str]) -> None:
        """Show one message or several (one per line)."""
        items = [messages] if isinstance(messages, str) else messages
        self.value = "".join(
            f'<div style="color:#b02a37;font-size:0.9em">⚠ {html.escape(m)}</div>' for m in items if m
        )

    def clear(self) -> None:
        """Hide the message."""
        self.value = ""

    @property
    def text(self) -> str:
        """The message without markup (for tests and headless use)."""
        import re

        return html.unescape(re.sub(r"<[^>]+>", " ", self.value)).replace("⚠", "").strip()


class QuietValue:
    """Mixin for forms whose ``value`` trait both reports edits and, when set, refills the form.

    ``_publish`` sets ``value`` from the form's own state without triggering the
    refill handler (which checks ``_updating``), so an edit never loops back.
    """

    _updating = False

    def _publish(self, value: Any) -> None:
        self._updating = True
        try:
            self.value = value
        finally:
            self._updating = False


def api_failure(exc: PrimerAPIError) -> str:
    """One line for an error answer: status, error id and description, then how to fix it if Primer says."""
    headline = f"{exc.status_code} {exc.error_id or ''}: {exc.description or ''}".strip()
    return headline + (f" How to fix: {exc.recovery_suggestion}" if exc.recovery_suggestion else "")


def breakable(name: str) -> str:
    """An API field name, escaped, that may wrap after a dot or before a capital: ``discount<wbr>Amount``."""
    return "<wbr>".join(html.escape(part) for part in re.split(r"(?<=\.)|(?=[A-Z])", name) if part)


def labelled(
    widget: widgets.Widget, label: str, api_field: str, looks: Looks, width: str = "auto"
) -> widgets.VBox:
    """A field with a label that names what it is and the API field it fills."""
    caption = looks.make(
        widgets.HTML,
        value=f'<span style="font-size:0.85em;padding-right:8px;overflow-wrap:anywhere">{html.escape(label)} '
        f'<code class="primer-nb-hint" style="color:#6c757d">{breakable(api_field)}</code></span>',
    )
    box = looks.make(widgets.VBox, children=[caption, widget], layout={"width": width})
    box.add_class("primer-nb-field")
    return box


def safe_callback(report: Callable[[Any, BaseException], None]) -> Callable[[_Func], _Func]:
    """Wrap a widget callback so an exception is shown in the form, never lost in a log console.

    ``report(self, exc)`` decides where the message goes.
    """

    def decorate(method: _Func) -> _Func:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                logger.debug("callback %s failed", method.__name__, exc_info=True)
                report(self, exc)
                return None

        return wrapper  # type: ignore[return-value]

    return decorate
