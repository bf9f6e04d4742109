"""Services: the rules and the transaction of every operation. REST handlers, CLI commands and
background jobs all call these functions, so each operation has one code path."""
