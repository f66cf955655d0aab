"""Everything kim-excel writes for people: letters, corrections, overview, booking
list, LIESMICH, e-invoices, GiroCode, PDF, the form. Imports core, input, ledger."""
