"""ipywidgets forms that build Client Session requests, create and update sessions, then pay for them.

Every form works headless: build it, set ``value``, read ``value`` and
``errors``, call methods, all without a browser. Key widgets carry stable CSS
classes (``primer-nb-*``) for browser tests.
"""

from primer_nb.widgets.customer import CustomerForm
from primer_nb.widgets.line_items import LineItemsForm
from primer_nb.widgets.metadata import MetadataForm
from primer_nb.widgets.payment import PaymentPanel
from primer_nb.widgets.session import SessionBuilder

__all__ = ["CustomerForm", "LineItemsForm", "MetadataForm", "PaymentPanel", "SessionBuilder"]
