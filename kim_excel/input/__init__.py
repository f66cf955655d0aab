"""Reading and validating the clerk's workbooks (and bank statements): file → typed input,
every problem as data. Imports only core."""
