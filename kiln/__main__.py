"""`python -m kiln`: the `kiln` command."""
from kiln.cli import main

main(prog_name="kiln")
