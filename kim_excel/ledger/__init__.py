"""The year folder's record, the one owner of state: drafts, issue, corrections,
sendings, payments; the atomic folder and its lock. Imports only core."""
