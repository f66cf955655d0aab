"""The calculation core: plain data, money, German notation, dates, the rules (R1–R12),
names, references and file names, the form's schema, errors. Imports nothing above it."""
