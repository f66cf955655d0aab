"""The output workbooks' building blocks.

- ``sheet``: the sheet toolkit every writer uses (cell references, typed writes, row heights,
  page setup);
- ``trail``: the ``Berechnung`` sheet and the R7 share formula (letter, overview and plan);
- ``letter``: the ``Abrechnung`` sheet, the letter to one partner.

The files themselves are assembled in ``workbooks.py`` (a partner's workbook),
``overview.py`` (``Uebersicht_<J>.xlsx``) and ``planning.py`` (``Planung_<J>.xlsx``).
"""
