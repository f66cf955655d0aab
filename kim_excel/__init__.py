"""kim-excel: settles the Eigenanteil of the Kommunales Case-Management once a year.

Pipeline: read → validate → calculate → write (see ARCHITECTURE.md).
"""

__version__ = "1.0.0"
