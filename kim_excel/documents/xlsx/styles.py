"""Every cell format of the output workbooks, defined once (STYLE.md § 7).

Numbers are always written as numbers with a number format, never as pre-formatted text.
The format codes are Excel's locale-independent codes: a German Excel (or LibreOffice with
a German locale) shows ``#,##0.00 "€"`` as ``1.234,56 €`` and ``DD.MM.YYYY`` as ``02.03.2025``.

``Styles(workbook)["eur"]`` creates a format the first time it is asked for, so a workbook
holds only the formats it uses, always in the same order for the same content (byte-identical
re-runs).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

FONT = {"font_name": "Arial", "font_size": 10}
# xlsxwriter's metrics for Arial 10: 7 px per digit, rows of 17 px (12.75 pt).
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "default_format_properties": dict(FONT),
    "default_row_height": 17,
    "default_column_width": 64,
}
ROW_HEIGHT = 12.75  # points, one line of Arial 10

EUR = '#,##0.00 "€"'
EUR_WHOLE = '#,##0 "€"'
SIGNED_EUR = '+#,##0.00 "€";-#,##0.00 "€";0.00 "€"'
DATE = "DD.MM.YYYY"
PERCENT = "0.00 %"
VZAE = "0.0###"
HOURS = "#,##0.0#"
KEY = "#,##0.0###"

HEADER_FILL = "#DDE5EE"
RESULT_FILL = "#EEF2F7"
GREY = "#595959"
BORDER = "#7F7F7F"

_STYLES: dict[str, dict[str, object]] = {
    # plain text
    "text": {"valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "bold": {"bold": True, "valign": "top"},
    "bold_wrap": {"bold": True, "text_wrap": True, "valign": "top"},
    "italic_wrap": {"italic": True, "text_wrap": True, "valign": "top", "font_color": GREY},
    "small": {"font_size": 9, "text_wrap": True, "valign": "top"},
    "small_grey": {"font_size": 8, "font_color": GREY, "valign": "top"},
    "right": {"align": "right", "valign": "top"},
    # letter head
    "sender": {"bold": True, "font_size": 14},
    "sender_line": {"font_color": GREY},
    "return_line": {"font_size": 7, "underline": True, "font_color": GREY},
    "info_label": {"font_size": 9, "font_color": GREY, "valign": "bottom"},
    "info_value": {"font_size": 9, "text_wrap": True, "valign": "bottom"},
    "info_date": {"font_size": 9, "num_format": DATE, "align": "left", "valign": "bottom"},
    "subject": {"bold": True, "font_size": 11},
    "signature_line": {"top": 1, "top_color": BORDER, "font_size": 9},
    # tables
    "th": {"bold": True, "bg_color": HEADER_FILL, "bottom": 1, "bottom_color": BORDER,
           "text_wrap": True, "valign": "bottom"},
    "th_right": {"bold": True, "bg_color": HEADER_FILL, "bottom": 1, "bottom_color": BORDER,
                 "text_wrap": True, "valign": "bottom", "align": "right"},
    "cell_wrap": {"text_wrap": True, "valign": "top"},
    "eur": {"num_format": EUR, "valign": "top"},
    "eur_bold": {"num_format": EUR, "bold": True, "valign": "top"},
    "eur_total": {"num_format": EUR, "bold": True, "top": 1, "top_color": BORDER},
    "label_total": {"bold": True, "top": 1, "top_color": BORDER, "text_wrap": True},
    "blank_total": {"top": 1, "top_color": BORDER},
    "eur_result": {"num_format": EUR, "bold": True, "top": 1, "bottom": 6,
                   "bg_color": RESULT_FILL},
    "label_result": {"bold": True, "top": 1, "bottom": 6, "bg_color": RESULT_FILL,
                     "text_wrap": True},
    "blank_result": {"top": 1, "bottom": 6, "bg_color": RESULT_FILL},
    "percent": {"num_format": PERCENT, "valign": "top"},
    "percent_total": {"num_format": PERCENT, "bold": True, "top": 1, "top_color": BORDER},
    "vzae": {"num_format": VZAE, "valign": "top"},
    "vzae_total": {"num_format": VZAE, "bold": True, "top": 1, "top_color": BORDER},
    "months": {"num_format": "0.0#", "valign": "top"},
    "key": {"num_format": KEY, "valign": "top"},
    "key_total": {"num_format": KEY, "bold": True, "top": 1, "top_color": BORDER},
    "date": {"num_format": DATE, "valign": "top", "align": "right"},
    "date_left": {"num_format": DATE, "valign": "top", "align": "left"},
    "date_bold": {"num_format": DATE, "bold": True, "align": "left"},
    "vat_rate": {"num_format": "0 %", "valign": "top"},
    "vat_rate_fraction": {"num_format": "0.0# %", "valign": "top"},
    # the recipient's own row in the trail
    "own_text": {"bold": True, "bg_color": "#FFF2CC", "valign": "top"},
    "own_key": {"num_format": KEY, "bold": True, "bg_color": "#FFF2CC"},
    "own_vzae": {"num_format": VZAE, "bold": True, "bg_color": "#FFF2CC"},
    "own_percent": {"num_format": PERCENT, "bold": True, "bg_color": "#FFF2CC"},
    "own_eur": {"num_format": EUR, "bold": True, "bg_color": "#FFF2CC"},
    "exited": {"italic": True, "font_color": GREY, "valign": "top"},
    "exited_vzae": {"italic": True, "font_color": GREY, "num_format": VZAE},
    # trail and overview
    "title": {"bold": True, "font_size": 13},
    "section": {"bold": True, "font_size": 11, "bottom": 2, "bottom_color": "#1F4E79",
                "font_color": "#1F4E79"},
    "check_ok": {"num_format": EUR, "bold": True, "font_color": "#006100",
                 "bg_color": "#C6EFCE", "top": 1, "top_color": BORDER},
    "check_bad": {"font_color": "#9C0006", "bg_color": "#FFC7CE"},
    # the plan (Planung_<J>.xlsx): boxed tables as in a council paper
    "plan_title": {"bold": True, "font_size": 14, "valign": "vcenter"},
    "subtitle": {"font_size": 11, "valign": "vcenter"},
    "plan_banner": {"bold": True, "font_color": "#FFFFFF", "bg_color": "#C00000",
                    "text_wrap": True, "border": 1, "align": "center", "valign": "vcenter"},
    "note_wrap": {"font_size": 9, "font_color": GREY, "text_wrap": True, "valign": "top"},
    "plan_note": {"font_size": 9, "font_color": GREY, "indent": 1, "valign": "vcenter"},
    "plan_section": {"bold": True, "font_size": 11, "bottom": 1, "valign": "vcenter"},
    "plan_th": {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                "valign": "vcenter"},
    "plan_th_right": {"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                      "align": "right", "valign": "vcenter"},
    "boxed": {"border": 1, "valign": "vcenter"},
    "boxed_right": {"border": 1, "align": "right", "valign": "vcenter"},
    "boxed_bold": {"border": 1, "bold": True, "valign": "vcenter"},
    "boxed_link": {"border": 1, "font_color": "#0563C1", "underline": 1, "valign": "vcenter"},
    "boxed_eur": {"border": 1, "num_format": EUR, "valign": "vcenter"},
    "boxed_eur_bold": {"border": 1, "num_format": EUR, "bold": True, "valign": "vcenter"},
    "boxed_signed": {"border": 1, "num_format": SIGNED_EUR, "valign": "vcenter"},
    "boxed_signed_bold": {"border": 1, "num_format": SIGNED_EUR, "bold": True,
                          "bg_color": "#F2F2F2", "valign": "vcenter"},
    "boxed_percent": {"border": 1, "num_format": PERCENT, "valign": "vcenter"},
    "boxed_vzae": {"border": 1, "num_format": VZAE, "valign": "vcenter"},
}


class Styles:
    """The formats of one workbook, created on first use."""

    def __init__(self, workbook) -> None:
        self._workbook = workbook
        self._made: dict[str, object] = {}

    def __getitem__(self, name: str):
        fmt = self._made.get(name)
        if fmt is None:
            fmt = self._workbook.add_format(dict(_STYLES[name]))
            self._made[name] = fmt
        return fmt

    def vat_rate(self, rate: Decimal):
        """``19 %`` for whole percents, ``7,5 %`` otherwise."""
        whole = (rate * 100) == (rate * 100).to_integral_value()
        return self["vat_rate" if whole else "vat_rate_fraction"]


def new_workbook(path, properties: dict[str, object]):
    """An xlsxwriter workbook with our options and fixed properties (reproducible bytes)."""
    import xlsxwriter

    options = {**WORKBOOK_OPTIONS, "default_format_properties": dict(FONT)}  # xlsxwriter mutates it
    workbook = xlsxwriter.Workbook(path if hasattr(path, "write") else str(path), options)
    workbook.set_properties(properties)
    return workbook


# Functions our formulas use. Excel needs none of them prefixed (``_xlfn.``), so a formula
# made only of these goes into the file as it is; xlsxwriter would otherwise try 29 regular
# expressions for newer functions on every formula, about a tenth of a letter's time.
CLASSIC_FUNCTIONS = frozenset({"SUM", "ROUND", "MIN", "MAX", "SUMIF", "IF", "ABS", "ROWS"})
_FUNCTION = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


@lru_cache(maxsize=1)
def classic_worksheet():
    """An xlsxwriter worksheet class that passes classic formulas through unchanged and
    leaves every other formula to xlsxwriter's own preparation."""
    from xlsxwriter.worksheet import Worksheet

    class ClassicFormulaWorksheet(Worksheet):
        # A private method of xlsxwriter 3 (pyproject pins xlsxwriter<4); the golden
        # snapshots and the LibreOffice recalculation catch a change of its contract.
        def _prepare_formula(self, formula, expand_future_functions=False):
            if set(_FUNCTION.findall(formula)) <= CLASSIC_FUNCTIONS and \
                    not formula.startswith("{"):
                return formula[1:] if formula.startswith("=") else formula
            return super()._prepare_formula(formula, expand_future_functions)

    return ClassicFormulaWorksheet


def add_sheet(workbook, name: str):
    return workbook.add_worksheet(name, worksheet_class=classic_worksheet())
